package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host end of the guest agent protocol (see {@code guest/agent.py}): JSON lines over the
 * VM's virtio-serial port.
 *
 * <p>Requests carry an id and complete a future when the matching reply arrives, so several can
 * be outstanding. The guest may also send requests of its own ({@code "call"}: a handler invoking
 * another function); they are handed to a {@link CallHandler} on a virtual thread and answered
 * with a {@code "reply"} line. When the socket closes — the VM died — every waiter fails at once.
 *
 * <p>Everything the guest sends is untrusted (docs/design.md §5). The reader never buffers more
 * than {@link GuestLimits#maxLineBytes} of a line: it reads fixed chunks and gives up on a line as
 * soon as it is too long, so a guest that writes a gigabyte without a newline costs the daemon
 * one line's worth of memory. A line that is too long or not JSON, or calls beyond the limits,
 * end the connection with a {@link VmException.Protocol}: every waiter fails with it and the
 * instance, no longer {@link #open()}, is discarded rather than pooled. Replies complete only
 * requests this connection sent. A call's parent invocation is the host's own record of what
 * runs here (the last {@code invoke} it sent), never what the guest claims.
 */
final class AgentConnection implements AutoCloseable {
    private static final int CHUNK = 64 * 1024;

    private final SocketChannel channel;
    private final OutputStream out;
    private final GuestLimits limits;
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> ready = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final CallHandler callHandler;
    private final AtomicInteger callsInFlight = new AtomicInteger();
    private final AtomicInteger callsThisInvocation = new AtomicInteger();
    /** The invocation the host last sent and has not had the answer to: the parent of the guest's calls. */
    private volatile String runningInvocation;
    private volatile VmException failure;
    private volatile boolean closed;

    AgentConnection(SocketChannel channel, CallHandler calls, GuestLimits limits) {
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        this.limits = limits;
        this.callHandler = calls == null ? CallHandler.NONE : calls;
        Thread.ofVirtual().name("agent-reader").start(this::readLoop);
    }

    /** False once the connection closed (the VM died, broke the protocol, or the host closed it). */
    boolean open() {
        return !closed;
    }

    private void readLoop() {
        try (InputStream in = Channels.newInputStream(channel)) {
            LineBuffer line = new LineBuffer(limits.maxLineBytes());
            byte[] chunk = new byte[CHUNK];
            for (int n; (n = in.read(chunk)) > 0; ) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (chunk[i] != '\n') continue;
                    line.append(chunk, start, i - start);
                    handle(line);
                    line.reset();
                    start = i + 1;
                }
                line.append(chunk, start, n - start);
            }
        } catch (VmException.Protocol e) {
            failure = e;
        } catch (IOException | RuntimeException e) {
            // fall through: the VM is gone (or the host closed the connection)
        } finally {
            closed = true;
            close();
            VmException cause = failure != null ? failure : new VmException.Died("the VM's agent connection closed (VM exited)");
            ready.completeExceptionally(cause);
            pending.values().forEach(f -> f.completeExceptionally(cause));
            pending.clear();
        }
    }

    /** One line from the guest; a breach of the protocol throws and ends the connection. */
    private void handle(LineBuffer line) {
        if (line.len == 0) return;
        JsonNode msg;
        try {
            msg = Json.parse(line.buf, 0, line.len);
        } catch (RuntimeException e) {
            throw new VmException.Protocol("guest_protocol", "the guest sent a line that is not JSON: " + e.getMessage());
        }
        if (!msg.isObject()) throw new VmException.Protocol("guest_protocol", "the guest sent a JSON line that is not an object");
        if (msg.has("call")) {
            acceptCall((ObjectNode) msg);
        } else if ("ready".equals(msg.path("op").asText())) {
            ready.complete(msg);
        } else {
            CompletableFuture<JsonNode> f = pending.remove(msg.path("id").asLong(-1));
            if (f != null) f.complete(msg); // a reply to nothing we are waiting for (a late one) is dropped
        }
    }

    private void acceptCall(ObjectNode msg) {
        if (callsThisInvocation.incrementAndGet() > limits.maxCallsPerInvocation()) {
            throw new VmException.Protocol("too_many_calls", "the guest made more than " + limits.maxCallsPerInvocation()
                    + " calls in one invocation");
        }
        if (callsInFlight.incrementAndGet() > limits.maxCallsInFlight()) {
            throw new VmException.Protocol("too_many_calls", "the guest has more than " + limits.maxCallsInFlight()
                    + " calls to other functions outstanding");
        }
        String parent = runningInvocation;
        if (parent == null) msg.remove("parent");
        else msg.put("parent", parent);
        Thread.ofVirtual().start(() -> {
            try {
                serveCall(msg);
            } finally {
                callsInFlight.decrementAndGet();
            }
        });
    }

    private void serveCall(JsonNode msg) {
        ObjectNode reply;
        try {
            JsonNode r = callHandler.call(msg);
            reply = r instanceof ObjectNode o ? o.deepCopy() : Json.object().put("ok", true).set("result", r);
        } catch (RuntimeException e) {
            reply = Json.object().put("ok", false);
            reply.putObject("error").put("type", e.getClass().getSimpleName()).put("message", String.valueOf(e.getMessage()));
        }
        reply.put("reply", msg.path("call").asLong());
        try {
            send(reply);
        } catch (VmException ignored) {
            // the caller's VM is gone; nobody is waiting for this answer
        }
    }

    /** A line being read, never longer than the limit; its buffer shrinks back after a long line. */
    private static final class LineBuffer {
        private final int max;
        private byte[] buf = new byte[CHUNK];
        private int len;

        LineBuffer(int max) {
            this.max = max;
        }

        void append(byte[] b, int off, int n) {
            if (n == 0) return;
            if (len + n > max) {
                boolean reply = (len > 0 ? buf[0] : b[off]) == '{';
                throw new VmException.Protocol(reply ? "result_too_large" : "guest_protocol",
                        "the guest sent a line longer than the limit of " + max + " bytes"
                                + (reply ? " (a result that large is refused)" : ""));
            }
            if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.min(max, Math.max(len + n, buf.length * 2)));
            System.arraycopy(b, off, buf, len, n);
            len += n;
        }

        /** Starts the next line; a buffer grown by a long line goes back to one chunk. */
        void reset() {
            len = 0;
            if (buf.length > 16 * CHUNK) buf = new byte[CHUNK];
        }
    }

    /** Waits for the agent's start-up line (only a freshly booted guest sends one). */
    void awaitReady(Duration timeout) {
        await(ready, timeout, "the guest agent to start");
    }

    /** Sends one request and waits for its reply. */
    JsonNode request(ObjectNode request, Duration timeout) {
        long id = ids.incrementAndGet();
        request.put("id", id);
        if (closed) throw failure != null ? failure : new VmException.Died("the VM's agent connection is closed");
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        if (closed) f.completeExceptionally(failure != null ? failure : new VmException.Died("the VM's agent connection is closed"));
        boolean invoke = "invoke".equals(request.path("op").asText());
        if (invoke) {
            runningInvocation = request.path("invocation").asText(null);
            callsThisInvocation.set(0);
        }
        try {
            send(request);
        } catch (VmException e) {
            pending.remove(id);
            throw e;
        }
        try {
            return await(f, timeout, "the guest's reply to " + request.path("op").asText());
        } finally {
            pending.remove(id);
            if (invoke) runningInvocation = null;
        }
    }

    private void send(ObjectNode msg) {
        byte[] data = (Json.write(msg) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            try {
                out.write(data);
                out.flush();
            } catch (IOException e) {
                throw new VmException.Died("cannot write to the guest agent: " + e.getMessage());
            }
        }
    }

    private static JsonNode await(CompletableFuture<JsonNode> f, Duration timeout, String what) {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new VmException.Timeout("timed out after " + timeout.toMillis() + " ms waiting for " + what);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof VmException ve ? ve : new VmException(e.getCause().toString(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted waiting for " + what);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
