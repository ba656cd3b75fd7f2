package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.sys.Native;
import dev.thaw.sys.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The descriptor monitor against a stand-in for QEMU's end of the socket: {@code getfd} carries
 * the descriptor as SCM_RIGHTS on the command's own bytes, replies are matched by id with events
 * skipped, and a QMP error names the command.
 */
class FdMonitorTest {
    private static final Duration T = Duration.ofSeconds(5);

    @Test
    void passesTheDescriptorWithGetfdAndMatchesRepliesById(@TempDir Path dir) throws Exception {
        Path state = Files.writeString(dir.resolve("vmstate"), "device state");
        try (Native.Fd listener = UnixSocket.listen(dir.resolve("qmp-fd.sock"));
             Native.Fd qemu = UnixSocket.connect(dir.resolve("qmp-fd.sock"))) {
            Native.Fd thawSide = UnixSocket.accept(listener, 5000);
            // QEMU's greeting, an event, and the answer to qmp_capabilities (the monitor's first id)
            say(qemu, "{\"QMP\": {\"version\": {}}}\n{\"event\": \"RESUME\"}\n{\"return\": {}, \"id\": \"thaw-fd-1\"}\n");
            try (FdMonitor monitor = new FdMonitor(thawSide, T);
                 Native.Fd file = Native.open(state, Native.O_RDONLY | Native.O_CLOEXEC)) {
                JsonNode negotiated = Json.parse(new String(UnixSocket.receive(qemu, 4096, 5000).data(), StandardCharsets.UTF_8).strip());
                assertEquals("qmp_capabilities", negotiated.path("execute").asText());
                CompletableFuture<Void> passed = CompletableFuture.runAsync(() -> monitor.passFd("vmstate", file, T));
                UnixSocket.Received got = UnixSocket.receive(qemu, 4096, 5000);
                JsonNode cmd = Json.parse(new String(got.data(), StandardCharsets.UTF_8).strip());
                assertEquals("getfd", cmd.path("execute").asText());
                assertEquals("vmstate", cmd.path("arguments").path("fdname").asText());
                assertEquals(1, got.fds().size(), "the descriptor rides on the command");
                try (Native.Fd received = got.fds().getFirst(); Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(64);
                    long n = Native.pread(received, buf, 0);
                    assertEquals("device state", new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8));
                }
                say(qemu, "{\"return\": {}, \"id\": \"stale\"}\n{\"event\": \"STOP\"}\n{\"return\": {}, \"id\": \"" + cmd.path("id").asText() + "\"}\n");
                passed.get(5, TimeUnit.SECONDS);

                CompletableFuture<JsonNode> migrate = CompletableFuture.supplyAsync(
                        () -> monitor.execute("migrate-incoming", Json.object().put("uri", "fd:vmstate"), T));
                JsonNode second = Json.parse(new String(UnixSocket.receive(qemu, 4096, 5000).data(), StandardCharsets.UTF_8).strip());
                assertEquals("fd:vmstate", second.path("arguments").path("uri").asText());
                say(qemu, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No file descriptor named vmstate\"}, \"id\": \""
                        + second.path("id").asText() + "\"}\n");
                Exception e = assertThrows(Exception.class, () -> migrate.get(5, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof VmException && e.getCause().getMessage().contains("migrate-incoming failed: No file descriptor"),
                        String.valueOf(e.getCause()));
            }
        }
    }

    @Test
    void aQemuThatHangsUpFailsTheCommandAsDied(@TempDir Path dir) throws Exception {
        try (Native.Fd listener = UnixSocket.listen(dir.resolve("m.sock"))) {
            Native.Fd qemu = UnixSocket.connect(dir.resolve("m.sock"));
            Native.Fd thawSide = UnixSocket.accept(listener, 5000);
            say(qemu, "{\"QMP\": {}}\n{\"return\": {}, \"id\": \"thaw-fd-1\"}\n");
            try (FdMonitor monitor = new FdMonitor(thawSide, T)) {
                qemu.close();
                assertThrows(VmException.Died.class, () -> monitor.execute("query-status", null, T));
            }
        }
    }

    private static void say(Native.Fd conn, String lines) throws Exception {
        UnixSocket.sendAll(conn, lines.getBytes(StandardCharsets.UTF_8), null);
    }
}
