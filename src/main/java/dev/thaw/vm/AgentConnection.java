package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host end of the guest agent protocol (see {@code guest/agent.py}): JSON lines over the
 * VM's virtio-serial port.
 *
 * <p>Requests carry an id and complete a future when the matching reply arrives, so several can
 * be outstanding. The guest may also send requests of its own ({@code "call"}: a handler invoking
 * another function); they are handed to a {@link CallHandler} on a virtual thread and answered
 * with a {@code "reply"} line. When the socket closes — the VM died — every waiter fails at once.
 */
final class AgentConnection implements AutoCloseable {
    private final SocketChannel channel;
    private final OutputStream out;
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> ready = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final CallHandler callHandler;
    private volatile boolean closed;

    AgentConnection(SocketChannel channel, CallHandler calls) {
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        this.callHandler = calls == null ? CallHandler.NONE : calls;
        Thread.ofVirtual().name("agent-reader").start(this::readLoop);
    }

    /** False once the connection closed (the VM died, or the host closed it). */
    boolean open() {
        return !closed;
    }

    private void readLoop() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) continue;
                JsonNode msg;
                try {
                    msg = Json.parse(line);
                } catch (IllegalArgumentException e) {
                    continue; // a garbled line (e.g. torn by a crash); the waiter times out or fails on EOF
                }
                if (msg.has("call")) {
                    Thread.ofVirtual().start(() -> serveCall(msg));
                } else if ("ready".equals(msg.path("op").asText())) {
                    ready.complete(msg);
                } else {
                    CompletableFuture<JsonNode> f = pending.remove(msg.path("id").asLong(-1));
                    if (f != null) f.complete(msg);
                }
            }
        } catch (IOException e) {
            // fall through: the VM is gone
        } finally {
            closed = true;
            VmException died = new VmException.Died("the VM's agent connection closed (VM exited)");
            ready.completeExceptionally(died);
            pending.values().forEach(f -> f.completeExceptionally(died));
            pending.clear();
        }
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

    /** Waits for the agent's start-up line (only a freshly booted guest sends one). */
    void awaitReady(Duration timeout) {
        await(ready, timeout, "the guest agent to start");
    }

    /** Sends one request and waits for its reply. */
    JsonNode request(ObjectNode request, Duration timeout) {
        long id = ids.incrementAndGet();
        request.put("id", id);
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        if (closed) f.completeExceptionally(new VmException.Died("the VM's agent connection is closed"));
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
