package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** Qmp against a scripted QEMU on a UNIX socket: a reply that comes after its command timed out is not the next command's. */
class QmpTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** What the fake QEMU does once a client has connected. */
    interface Script {
        void run(FakeQemu qemu) throws Exception;
    }

    /** The QEMU end of the QMP socket: sends the greeting, then runs its script on its own thread. */
    static final class FakeQemu implements AutoCloseable {
        final List<JsonNode> received = Collections.synchronizedList(new ArrayList<>());
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final ServerSocketChannel server;
        private final Thread thread;
        private BufferedReader in;
        private OutputStream out;

        FakeQemu(Path socket, Script script) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
            thread = Thread.ofPlatform().name("fake-qemu").start(() -> {
                try (SocketChannel peer = server.accept()) {
                    in = new BufferedReader(new InputStreamReader(Channels.newInputStream(peer), StandardCharsets.UTF_8));
                    out = Channels.newOutputStream(peer);
                    send("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 9}}, \"capabilities\": []}}");
                    script.run(this);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
        }

        /** The next command the client sent. */
        JsonNode read() throws IOException {
            String line = in.readLine();
            if (line == null) throw new IOException("the client hung up");
            JsonNode command = Json.parse(line);
            received.add(command);
            return command;
        }

        void send(String json) throws IOException {
            out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Answers a command the way QEMU does: its return value, with the command's id echoed. */
        void reply(JsonNode command, String who) throws IOException {
            ObjectNode reply = Json.object();
            reply.putObject("return").put("who", who);
            if (command.has("id")) reply.set("id", command.get("id"));
            send(Json.write(reply));
        }

        /** Negotiation: qmp_capabilities, answered with an empty return. */
        void capabilities() throws IOException {
            JsonNode caps = read();
            assertEquals("qmp_capabilities", caps.path("execute").asText());
            ObjectNode reply = Json.object();
            reply.putObject("return");
            if (caps.has("id")) reply.set("id", caps.get("id"));
            send(Json.write(reply));
        }

        /** Waits for the script to end and rethrows what went wrong in it. */
        void finish() throws Exception {
            assertTrue(thread.join(WAIT), "the fake QEMU's script did not finish");
            if (failure.get() instanceof Exception e) throw e;
            if (failure.get() instanceof Error e) throw e;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private SocketChannel connect(Path socket) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    private static CountDownLatch latch() {
        return new CountDownLatch(1);
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the test never released the fake QEMU");
    }

    @Test
    void aLateReplyArrivingDuringTheNextCommandIsNotTakenAsItsReply() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        CountDownLatch firstTimedOut = latch();
        try (FakeQemu qemu = new FakeQemu(socket, q -> {
            q.capabilities();
            JsonNode first = q.read();
            await(firstTimedOut);                  // hold the answer until the client has given up on it
            JsonNode second = q.read();
            q.reply(first, "first");               // late: the client is now waiting for the second
            q.send("{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
            q.reply(second, "second");
            q.reply(q.read(), "third");
        }); Qmp qmp = new Qmp(connect(socket))) {
            assertThrows(VmException.Timeout.class, () -> qmp.execute("query-first", null, Duration.ofMillis(50)));
            firstTimedOut.countDown();

            assertEquals("second", qmp.execute("query-second", null, WAIT).path("who").asText());
            assertEquals("STOP", qmp.awaitEvent(e -> e.path("event").asText().equals("STOP"), WAIT, "STOP").path("event").asText());
            assertEquals("third", qmp.execute("query-third", null, WAIT).path("who").asText());
            qemu.finish();

            List<String> ids = qemu.received.stream().map(c -> c.path("id").asText("")).toList();
            assertEquals(4, new HashSet<>(ids).size(), "every command has its own id: " + ids);
            assertFalse(ids.contains(""), "every command has an id: " + ids);
        }
    }

    @Test
    void aLateReplyAlreadyQueuedBeforeTheNextCommandIsDropped() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        CountDownLatch firstTimedOut = latch();
        CountDownLatch lateReplySent = latch();
        try (FakeQemu qemu = new FakeQemu(socket, q -> {
            q.capabilities();
            JsonNode first = q.read();
            await(firstTimedOut);
            q.reply(first, "first");
            lateReplySent.countDown();
            q.reply(q.read(), "second");
        }); Qmp qmp = new Qmp(connect(socket))) {
            assertThrows(VmException.Timeout.class, () -> qmp.execute("query-first", null, Duration.ofMillis(50)));
            firstTimedOut.countDown();
            await(lateReplySent);

            assertEquals("second", qmp.execute("query-second", null, WAIT).path("who").asText());
            qemu.finish();
        }
    }

    @Test
    void aReplyWithTheRightIdAfterStaleOnesStillReportsAnError() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (FakeQemu qemu = new FakeQemu(socket, q -> {
            q.capabilities();
            JsonNode command = q.read();
            q.send("{\"return\": {\"who\": \"nobody\"}, \"id\": \"not-ours\"}");
            q.send("{\"return\": {\"who\": \"anonymous\"}}");
            q.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such device\"}, \"id\": "
                    + Json.write(command.get("id")) + "}");
        }); Qmp qmp = new Qmp(connect(socket))) {
            VmException e = assertThrows(VmException.class, () -> qmp.execute("device_del", null, WAIT));
            assertEquals("QMP device_del failed: no such device", e.getMessage());
            qemu.finish();
        }
    }
}
