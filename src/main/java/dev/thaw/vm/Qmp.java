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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A QMP (QEMU Machine Protocol) session over a connected Unix socket.
 *
 * <p>QMP interleaves asynchronous events with command replies on one stream. A reader thread
 * splits them: replies go to a hand-off queue (commands are issued one at a time under a lock),
 * events to a queue that {@link #awaitEvent} consumes. Waiting on events instead of polling
 * {@code query-migrate} keeps the restore path free of sleep loops.
 *
 * <p>Every command carries a fresh {@code id}, which QEMU echoes in its reply, and a command
 * takes only the reply with its own id. A command that times out does not take its reply with
 * it: QEMU still answers later, and without ids that late answer would sit in the queue and be
 * read by the next command as its own. Replies with another id (or none) are dropped.
 */
public final class Qmp implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;
    private final BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
    private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    private volatile boolean closed;
    private long lastId; // guarded by this: ids are drawn inside execute

    Qmp(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(channel);
        JsonNode greeting = Json.parse(in.readLine());
        if (!greeting.has("QMP")) throw new IOException("not a QMP greeting: " + greeting);
        Thread.ofVirtual().name("qmp-reader").start(this::readLoop);
        execute("qmp_capabilities", null, Duration.ofSeconds(10));
    }

    private void readLoop() {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode msg = Json.parse(line);
                if (msg.has("event")) events.add(msg);
                else replies.add(msg);
            }
        } catch (IOException | IllegalArgumentException e) {
            // socket closed: the VM is gone; waiting callers see the closed marker below
        } finally {
            closed = true;
            replies.add(Json.object().put("closed", true));
            events.add(Json.object().put("closed", true));
        }
    }

    /** Runs one command and returns its "return" value; a QMP error becomes a {@link VmException}. */
    public synchronized JsonNode execute(String command, ObjectNode arguments, Duration timeout) {
        String id = "thaw-" + ++lastId;
        ObjectNode msg = Json.object().put("execute", command);
        if (arguments != null) msg.set("arguments", arguments);
        msg.put("id", id);
        try {
            if (closed) throw new VmException.Died("QMP connection closed before " + command);
            out.write((Json.write(msg) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            JsonNode reply = awaitReply(id, timeout);
            if (reply == null) throw new VmException.Timeout("QMP " + command + " got no reply in " + timeout);
            if (reply.has("closed")) throw new VmException.Died("QEMU exited during " + command);
            if (reply.has("error")) {
                throw new VmException("QMP " + command + " failed: " + reply.path("error").path("desc").asText());
            }
            return reply.path("return");
        } catch (IOException e) {
            throw new VmException.Died("QMP " + command + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted during QMP " + command);
        }
    }

    /** The reply carrying {@code id}, or the closed marker; null when neither came in time. Other replies are stale: dropped. */
    private JsonNode awaitReply(String id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            JsonNode reply = left > 0 ? replies.poll(left, TimeUnit.NANOSECONDS) : null;
            if (reply == null || reply.has("closed") || id.equals(reply.path("id").asText(null))) return reply;
        }
    }

    public JsonNode execute(String command) {
        return execute(command, null, Duration.ofSeconds(30));
    }

    /** Waits for the first event matching {@code match}, discarding others. */
    public JsonNode awaitEvent(Predicate<JsonNode> match, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                JsonNode ev = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
                if (ev == null) throw new VmException.Timeout(what + " did not happen within " + timeout);
                if (ev.has("closed")) throw new VmException.Died("QEMU exited while waiting for " + what);
                if (match.test(ev)) return ev;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted while waiting for " + what);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
