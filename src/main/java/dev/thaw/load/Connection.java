package dev.thaw.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * One HTTP/1.1 keep-alive connection of the {@link LoadRunner} and the invocation on it, if any:
 * the non-blocking socket, the request being written and the answer being read. Only the loop
 * thread touches it, so nothing here is synchronised, and the runner reads and sets its fields
 * directly. The buffers are made with the connection and grow only for an unusually large
 * request or answer: an exchange on a connection already open allocates nothing.
 */
final class Connection {
    /** The {@link #invocation} of a connection with nothing in flight. */
    static final int NONE = -1;

    SocketChannel channel;
    SelectionKey key;
    boolean connected;
    long connectDeadline;
    int invocation = NONE;
    long deadline;
    boolean retried;
    int exchanges;
    long received;
    /** The request being written: direct, so the write needs no copy into a temporary buffer. */
    ByteBuffer out = ByteBuffer.allocateDirect(512);
    byte[] in = new byte[4096];
    ByteBuffer inBuf = ByteBuffer.wrap(in);
    int inLen;

    /** Starts connecting to {@code address}, registered on {@code selector} with this connection attached. */
    void open(Selector selector, InetSocketAddress address, long connectDeadline) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            connected = ch.connect(address);
            key = ch.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        channel = ch;
        this.connectDeadline = connectDeadline;
        exchanges = 0;
    }

    /** Completes a pending connect; once connected (true), the connection waits for answers. */
    boolean finishConnect() throws IOException {
        if (!channel.finishConnect()) {
            return false;
        }
        connected = true;
        key.interestOps(SelectionKey.OP_READ);
        return true;
    }

    void setRequest(RequestTemplates.Buffer r) {
        if (out.capacity() < r.length) {
            out = ByteBuffer.allocateDirect(Math.max(r.length, out.capacity() * 2));
        }
        out.clear();
        out.put(r.array, 0, r.length);
        out.flip();
    }

    /** Writes as much of the request as the socket takes; while some is left, asks to hear when it takes more. */
    void write() throws IOException {
        channel.write(out);
        int ops = out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
        if (key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    /**
     * Appends what the socket has to the answer read so far ({@link #in} up to {@link #inLen}),
     * growing the buffer up to the largest answer the parser takes; returns whether the server
     * closed its end.
     */
    boolean read() throws IOException {
        while (true) {
            if (inLen == in.length) {
                if (in.length >= ResponseParser.MAX_HEADER + ResponseParser.MAX_BODY) {
                    throw new ResponseParser.ProtocolException("response too large");
                }
                grow();
            }
            inBuf.limit(in.length).position(inLen);
            int n = channel.read(inBuf);
            if (n < 0) {
                return true;
            }
            if (n == 0) {
                return false;
            }
            inLen += n;
            received += n;
            if (inLen < in.length) {
                return false; // drained what the socket had
            }
        }
    }

    private void grow() {
        in = Arrays.copyOf(in, in.length * 2);
        inBuf = ByteBuffer.wrap(in);
    }

    /** Closes the socket; the connection may be opened again. */
    void close() {
        if (key != null) {
            key.cancel();
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // it is going away either way
            }
        }
        channel = null;
        key = null;
        connected = false;
    }
}
