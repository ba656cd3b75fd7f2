package dev.thaw.load;

import dev.thaw.sys.RealTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * The self-test target: a deliberately trivial HTTP/1.1 server on loopback that answers every
 * request with {@code 200 {"result":{}}}, so that a load run against it measures the generator.
 *
 * <p>Design: a few selector threads (one by default), each owning its connections outright; the
 * first also accepts and hands new connections round-robin through a queue plus
 * {@link Selector#wakeup()}. Per readable connection the thread reads what is there, counts the
 * complete requests in it (request line and headers up to the blank line, then Content-Length
 * body bytes, which may straddle reads), and writes one canned response per request in a single
 * write — pipelined requests are therefore answered in one batch. The response bytes are
 * pre-built and buffers are allocated once per connection, so the steady state allocates
 * nothing. Keep-alive always; the server closes a connection only on EOF, error, or a request
 * whose headers do not fit the 16 KiB buffer (answered 431). It accepts any method and path,
 * which is what lets {@code wrk} and the generator hit the very same server.
 */
public final class LoopbackServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LoopbackServer.class.getName());

    private static final byte[] OK = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + "Content-Length: 13\r\n\r\n{\"result\":{}}").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOO_LARGE = ("HTTP/1.1 431 Request Header Fields Too Large\r\n"
            + "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final int BUFFER = 16 * 1024;

    private final ServerSocketChannel server;
    private final List<Loop> loops = new ArrayList<>();
    private final LongAdder requests = new LongAdder();
    private final boolean realtime;
    private volatile boolean closed;

    private LoopbackServer(ServerSocketChannel server, int threads, boolean realtime) throws IOException {
        this.server = server;
        this.realtime = realtime;
        for (int i = 0; i < threads; i++) {
            loops.add(new Loop(i));
        }
        for (Loop loop : loops) {
            loop.thread.start();
        }
    }

    /** Starts a server on 127.0.0.1:{@code port} (0 picks a free port) with {@code threads} selector threads. */
    public static LoopbackServer start(int port, int threads) throws IOException {
        return start(port, threads, false);
    }

    /** As {@link #start(int, int)}; with {@code realtime} the selector threads ask for SCHED_FIFO (see {@link RealTime}). */
    public static LoopbackServer start(int port, int threads, boolean realtime) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("server threads must be at least 1, got " + threads);
        }
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
            ch.configureBlocking(false);
            return new LoopbackServer(ch, threads, realtime);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) localAddress()).getPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    private java.net.SocketAddress localAddress() {
        try {
            return server.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Requests answered so far. */
    public long requests() {
        return requests.sum();
    }

    @Override
    public void close() {
        closed = true;
        for (Loop loop : loops) {
            loop.selector.wakeup();
        }
        for (Loop loop : loops) {
            try {
                loop.thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the server socket", e);
        }
    }

    /** One selector thread and the connections it owns. */
    private final class Loop implements Runnable {
        final Selector selector;
        final Thread thread;
        final ConcurrentLinkedQueue<SocketChannel> incoming = new ConcurrentLinkedQueue<>();
        int nextLoop;

        Loop(int index) throws IOException {
            selector = Selector.open();
            if (index == 0) {
                server.register(selector, SelectionKey.OP_ACCEPT);
            }
            thread = Thread.ofPlatform().daemon().name("thaw-loopback-" + index).unstarted(this);
        }

        @Override
        public void run() {
            if (realtime && !RealTime.fifo(RealTime.PRIORITY)) {
                LOG.log(System.Logger.Level.WARNING, "could not get SCHED_FIFO for the loopback server (needs root or CAP_SYS_NICE)");
            }
            try (selector) {
                while (!closed) {
                    selector.select();
                    SocketChannel ch;
                    while ((ch = incoming.poll()) != null) {
                        register(ch);
                    }
                    for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey key = it.next();
                        it.remove();
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isAcceptable()) {
                            accept();
                        } else {
                            ((Conn) key.attachment()).ready(key);
                        }
                    }
                }
                for (SelectionKey key : selector.keys()) {
                    key.channel().close();
                }
            } catch (IOException | ClosedSelectorException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.ERROR, "loopback server loop failed", e);
                }
            }
        }

        private void accept() throws IOException {
            SocketChannel ch;
            while ((ch = server.accept()) != null) {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Loop target = loops.get(nextLoop++ % loops.size());
                if (target == this) {
                    register(ch);
                } else {
                    target.incoming.add(ch);
                    target.selector.wakeup();
                }
            }
        }

        private void register(SocketChannel ch) throws IOException {
            ch.register(selector, SelectionKey.OP_READ, new Conn(ch));
        }
    }

    /** One connection's buffers and request-framing state. */
    private final class Conn {
        final SocketChannel ch;
        final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER);
        final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER);
        /** Body bytes of the current request still to arrive (they may straddle reads). */
        long bodyLeft;
        /** Requests framed but not yet answered because {@code out} was full. */
        long unanswered;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }

        void ready(SelectionKey key) {
            try {
                if (key.isWritable()) {
                    flush(key);
                }
                if (key.isReadable()) {
                    read(key);
                }
            } catch (IOException e) {
                closeQuietly(key);
            }
        }

        private void read(SelectionKey key) throws IOException {
            int n = ch.read(in);
            if (n < 0) {
                closeQuietly(key);
                return;
            }
            in.flip();
            boolean tooLarge = frame();
            in.compact();
            if (tooLarge) {
                ch.write(ByteBuffer.wrap(TOO_LARGE)); // best effort; the connection ends here
                closeQuietly(key);
                return;
            }
            flush(key);
        }

        /**
         * Consumes complete requests from {@code in} (flipped), queueing one response each.
         * Returns true if a request's headers cannot fit the buffer.
         */
        private boolean frame() {
            while (true) {
                if (bodyLeft > 0) {
                    int skip = (int) Math.min(bodyLeft, in.remaining());
                    in.position(in.position() + skip);
                    bodyLeft -= skip;
                    if (bodyLeft > 0) {
                        return false;
                    }
                    respond();
                }
                int start = in.position();
                int end = headerEnd(start, in.limit());
                if (end < 0) {
                    return in.remaining() == in.capacity();
                }
                long length = contentLength(start, end);
                in.position(end);
                if (length > 0) {
                    bodyLeft = length;
                } else {
                    respond();
                }
            }
        }

        private void respond() {
            unanswered++;
        }

        /** Index just past the blank line ending the headers, or -1. */
        private int headerEnd(int from, int to) {
            for (int i = from; i + 3 < to; i++) {
                if (in.get(i) == '\r' && in.get(i + 1) == '\n' && in.get(i + 2) == '\r' && in.get(i + 3) == '\n') {
                    return i + 4;
                }
            }
            return -1;
        }

        /** Content-Length of the headers in [from, to), matched case-insensitively; 0 if absent. */
        private long contentLength(int from, int to) {
            final String name = "content-length:";
            for (int line = from; line < to; ) {
                int eol = line;
                while (eol < to && in.get(eol) != '\n') {
                    eol++;
                }
                if (eol - line > name.length() && matches(line, name)) {
                    long value = 0;
                    for (int i = line + name.length(); i < eol; i++) {
                        byte b = in.get(i);
                        if (b >= '0' && b <= '9') {
                            value = value * 10 + (b - '0');
                        }
                    }
                    return value;
                }
                line = eol + 1;
            }
            return 0;
        }

        private boolean matches(int at, String lowerName) {
            for (int i = 0; i < lowerName.length(); i++) {
                if (Character.toLowerCase(in.get(at + i)) != lowerName.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        /** Writes queued answers; a client that does not read fast enough gets OP_WRITE back-pressure. */
        private void flush(SelectionKey key) throws IOException {
            while (true) {
                long fit = Math.min(unanswered, out.remaining() / OK.length);
                for (long i = 0; i < fit; i++) {
                    out.put(OK);
                }
                unanswered -= fit;
                requests.add(fit);
                if (out.position() == 0) {
                    break;
                }
                out.flip();
                ch.write(out);
                boolean drained = !out.hasRemaining();
                out.compact();
                if (!drained || unanswered == 0) {
                    break;
                }
            }
            int ops = out.position() > 0 ? SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }

        private void closeQuietly(SelectionKey key) {
            key.cancel();
            try {
                ch.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}
