package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;
import dev.thaw.sys.UnixSocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A second QMP monitor of one QEMU, used only for the commands that hand it a file descriptor:
 * {@code getfd} (the descriptor rides as SCM_RIGHTS ancillary data on the command's bytes) and
 * the {@code migrate-incoming}/{@code migrate} with {@code fd:<name>} that consume it.
 *
 * <p>Why a second monitor: {@code java.nio} cannot send ancillary data, so this connection is
 * read and written through {@link UnixSocket} (FFM), while the main {@link Qmp} session stays on
 * a {@code SocketChannel} with its reader thread and event queue. A descriptor added by
 * {@code getfd} belongs to the monitor that received it, and {@code fd:<name>} is looked up in
 * the monitor that runs the migration command, so both go here. Replies are awaited in the
 * caller's thread; events (QEMU sends every monitor the same) are read and dropped, the main
 * session sees them too. The daemon opens the vmstate itself, so QEMU needs no path to it, no
 * {@code exec:cat} child and no right to spawn one (docs/design.md §5).
 */
final class FdMonitor implements AutoCloseable {
    private static final int MAX_LINE = 1 << 20;

    private final Native.Fd conn;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long lastId;

    /** Reads QEMU's greeting and negotiates capabilities on an accepted connection. */
    FdMonitor(Native.Fd conn, Duration timeout) throws IOException {
        this.conn = conn;
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode greeting = readLine(deadline, "the QMP greeting");
        if (!greeting.has("QMP")) throw new IOException("not a QMP greeting: " + greeting);
        execute("qmp_capabilities", null, null, timeout);
    }

    /** {@code getfd}: QEMU keeps its own copy of {@code fd} under {@code name}; the caller may close {@code fd} afterwards. */
    synchronized void passFd(String name, Native.Fd fd, Duration timeout) {
        execute("getfd", Json.object().put("fdname", name), fd, timeout);
    }

    /** Runs one command on this monitor; a QMP error becomes a {@link VmException}. */
    synchronized JsonNode execute(String command, ObjectNode arguments, Duration timeout) {
        return execute(command, arguments, null, timeout);
    }

    private JsonNode execute(String command, ObjectNode arguments, Native.Fd fd, Duration timeout) {
        String id = "thaw-fd-" + ++lastId;
        ObjectNode msg = Json.object().put("execute", command);
        if (arguments != null) msg.set("arguments", arguments);
        msg.put("id", id);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            UnixSocket.sendAll(conn, (Json.write(msg) + "\n").getBytes(StandardCharsets.UTF_8), fd);
            while (true) {
                JsonNode reply = readLine(deadline, "the reply to " + command);
                if (reply.has("event") || !id.equals(reply.path("id").asText(null))) continue;
                if (reply.has("error")) {
                    throw new VmException("QMP " + command + " failed: " + reply.path("error").path("desc").asText());
                }
                return reply.path("return");
            }
        } catch (IOException e) {
            throw new VmException.Died("QMP " + command + " (descriptor monitor): " + e.getMessage());
        }
    }

    /** The next complete line as JSON; {@link VmException.Timeout} past the deadline, an IOException at end of stream. */
    private JsonNode readLine(long deadline, String what) throws IOException {
        while (true) {
            byte[] buf = pending.toByteArray();
            for (int i = 0; i < buf.length; i++) {
                if (buf[i] == '\n') {
                    pending.reset();
                    pending.write(buf, i + 1, buf.length - i - 1);
                    return Json.parse(new String(buf, 0, i, StandardCharsets.UTF_8));
                }
            }
            if (buf.length > MAX_LINE) throw new IOException("a QMP line longer than " + MAX_LINE + " bytes");
            int left = (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
            if (left == 0) throw new VmException.Timeout("QEMU sent no " + what + " in time");
            UnixSocket.Received r = UnixSocket.receive(conn, 64 * 1024, left);
            if (r == null) continue;
            for (Native.Fd unexpected : r.fds()) quietly(unexpected);
            if (r.data().length == 0) throw new IOException("QEMU closed the connection before " + what);
            pending.writeBytes(r.data());
        }
    }

    private static void quietly(Native.Fd fd) {
        try {
            fd.close();
        } catch (NativeException ignored) {
            // nothing more to do with a descriptor QEMU should not have sent
        }
    }

    @Override
    public void close() {
        quietly(conn);
    }
}
