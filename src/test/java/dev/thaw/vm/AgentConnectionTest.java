package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host end of the agent protocol against a scripted hostile guest on a socket pair: what a
 * guest sends is bounded and validated, a breach fails the waiting request with a named error and
 * ends the connection, and a call's parent is the host's record, not the guest's word.
 */
class AgentConnectionTest {
    static final GuestLimits SMALL = new GuestLimits(64 * 1024, 2, 3);
    Path dir;
    SocketChannel guest;
    BufferedReader fromHost;
    AgentConnection agent;
    final LinkedBlockingQueue<JsonNode> calls = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> releaseCalls = new CompletableFuture<>();

    @BeforeEach
    void connect() throws IOException {
        dir = Files.createTempDirectory("agent-test");
        Path sock = dir.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            guest = SocketChannel.open(UnixDomainSocketAddress.of(sock));
            SocketChannel host = server.accept();
            agent = new AgentConnection(host, msg -> {
                calls.add(msg);
                releaseCalls.join();
                return Json.object().put("ok", true);
            }, SMALL);
        }
        fromHost = new BufferedReader(new InputStreamReader(Channels.newInputStream(guest), StandardCharsets.UTF_8));
    }

    @AfterEach
    void close() throws IOException {
        releaseCalls.complete(null);
        agent.close();
        guest.close();
        Files.deleteIfExists(dir.resolve("agent.sock"));
        Files.deleteIfExists(dir);
    }

    void send(String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) guest.write(b);
    }

    /** Starts an invoke request from the host and returns its id as the guest read it. */
    CompletableFuture<JsonNode> invoke(String invocation) throws IOException {
        CompletableFuture<JsonNode> reply = CompletableFuture.supplyAsync(() -> agent.request(
                Json.object().put("op", "invoke").put("invocation", invocation), Duration.ofSeconds(10)),
                r -> Thread.ofVirtual().start(r));
        JsonNode req = Json.parse(fromHost.readLine());
        assertEquals(invocation, req.path("invocation").asText());
        return reply;
    }

    static VmException.Protocol protocolFailure(CompletableFuture<JsonNode> f) {
        var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c ? c.getCause() : e.getCause();
        assertTrue(cause instanceof VmException.Protocol, String.valueOf(cause));
        return (VmException.Protocol) cause;
    }

    @Test
    void aReplyCompletesItsRequest() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        send("{\"id\": 1, \"ok\": true, \"result\": 42}\n");
        assertEquals(42, reply.get(10, TimeUnit.SECONDS).path("result").asInt());
        assertTrue(agent.open());
    }

    @Test
    void anEndlessLineFailsTheRequestWithoutBufferingIt() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        Runtime rt = Runtime.getRuntime();
        long before = rt.totalMemory() - rt.freeMemory();
        byte[] junk = new byte[1 << 20];
        java.util.Arrays.fill(junk, (byte) 'x');
        CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < 256; i++) guest.write(ByteBuffer.wrap(junk)); // 256 MiB, no newline
            } catch (IOException expected) {
                // the host hung up once the line passed its limit
            }
        });
        VmException.Protocol e = protocolFailure(reply);
        assertEquals("guest_protocol", e.code());
        flood.get(30, TimeUnit.SECONDS);
        assertFalse(agent.open(), "the connection is closed, so the instance is never pooled");
        long grown = (rt.totalMemory() - rt.freeMemory()) - before;
        assertTrue(grown < 64L << 20, "the reader buffered " + (grown >> 20) + " MiB");
    }

    @Test
    void anOversizedResultIsNamed() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        send("{\"id\": 1, \"ok\": true, \"result\": \"" + "y".repeat(100_000) + "\"}\n");
        assertEquals("result_too_large", protocolFailure(reply).code());
    }

    @Test
    void aLineThatIsNotJsonEndsTheConnection() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        send("this is not json\n");
        assertEquals("guest_protocol", protocolFailure(reply).code());
        assertThrows(VmException.Protocol.class, () -> agent.request(Json.object().put("op", "ping"), Duration.ofSeconds(1)),
                "later requests fail with the same cause");
    }

    @Test
    void deeplyNestedJsonIsAProtocolErrorNotACrash() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        send("[".repeat(50_000) + "\n");
        assertEquals("guest_protocol", protocolFailure(reply).code());
    }

    @Test
    void aCallsParentIsTheHostsRecordNotTheGuests() throws Exception {
        invoke("inv-real");
        send("{\"call\": 1, \"op\": \"invoke\", \"function\": \"f\", \"parent\": \"inv-forged\", \"event\": {}}\n");
        JsonNode call = calls.poll(10, TimeUnit.SECONDS);
        assertEquals("inv-real", call.path("parent").asText());
    }

    @Test
    void aCallWithNoInvocationRunningHasNoParent() throws Exception {
        send("{\"call\": 1, \"op\": \"invoke\", \"function\": \"f\", \"parent\": \"inv-forged\", \"event\": {}}\n");
        JsonNode call = calls.poll(10, TimeUnit.SECONDS);
        assertFalse(call.has("parent"), call.toString());
    }

    @Test
    void tooManyCallsInFlightEndTheConnection() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        for (int i = 1; i <= 3; i++) send("{\"call\": " + i + ", \"op\": \"invoke\", \"function\": \"f\", \"event\": {}}\n");
        assertEquals("too_many_calls", protocolFailure(reply).code());
    }

    @Test
    void tooManyCallsInOneInvocationEndTheConnection() throws Exception {
        releaseCalls.complete(null); // calls finish at once, so only the per-invocation count can trip
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        for (int i = 1; i <= 4; i++) {
            send("{\"call\": " + i + ", \"op\": \"invoke\", \"function\": \"f\", \"event\": {}}\n");
            if (i <= 3) fromHost.readLine(); // the host's reply to the call
        }
        assertEquals("too_many_calls", protocolFailure(reply).code());
    }

    @Test
    void aReplyToNothingTheHostSentIsDropped() throws Exception {
        CompletableFuture<JsonNode> reply = invoke("inv-1");
        send("{\"id\": 999, \"ok\": true, \"result\": \"forged\"}\n");
        send("{\"id\": 1, \"ok\": true, \"result\": \"real\"}\n");
        assertEquals("real", reply.get(10, TimeUnit.SECONDS).path("result").asText());
    }
}
