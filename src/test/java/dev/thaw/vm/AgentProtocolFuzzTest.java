package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the host's parser of the agent protocol: a guest sends one arbitrary line (bytes, JSON
 * of any shape, deep nesting, huge numbers, forged replies and calls) while the host waits for
 * its reply. Whatever the line, the host either goes on and takes the real reply, or ends the
 * connection with a named {@link VmException.Protocol}; it never hangs or dies another way.
 */
class AgentProtocolFuzzTest {
    static final GuestLimits LIMITS = new GuestLimits(16 * 1024, 4, 8);

    @Provide
    Arbitrary<String> lines() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(300).map(s -> s.replace("\n", "")),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(300),
                Arbitraries.integers().between(1, 5000).map(n -> "{\"a\":" + "[".repeat(n)),
                Arbitraries.integers().between(1, 20_000).map(n -> "{\"id\": " + "9".repeat(n) + "}"),
                Arbitraries.of("{}", "[]", "null", "1", "\"x\"", "{\"id\": 7, \"ok\": true}", "{\"id\": \"1\"}",
                        "{\"op\": \"ready\"}", "{\"call\": \"x\"}", "{\"call\": 1, \"function\": 3, \"event\": []}",
                        "{\"reply\": 5}", "{\"id\": null, \"ok\": false}"),
                Arbitraries.integers().between(16 * 1024 - 8, 40 * 1024).map(n -> "{\"id\": 1, \"x\": \"" + "z".repeat(n) + "\"}"));
    }

    @Property(tries = 1_000)
    void anyLineIsTakenOrRefusedByName(@ForAll("lines") String line) throws Exception {
        Path dir = Files.createTempDirectory("agent-fuzz");
        Path sock = dir.resolve("a.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            try (SocketChannel guest = SocketChannel.open(UnixDomainSocketAddress.of(sock));
                 AgentConnection host = new AgentConnection(server.accept(), msg -> Json.object().put("ok", true), LIMITS)) {
                BufferedReader fromHost = new BufferedReader(new InputStreamReader(Channels.newInputStream(guest), StandardCharsets.UTF_8));
                CompletableFuture<JsonNode> reply = CompletableFuture.supplyAsync(
                        () -> host.request(Json.object().put("op", "invoke").put("invocation", "inv-f"), Duration.ofSeconds(10)),
                        r -> Thread.ofVirtual().start(r));
                long id = Json.parse(fromHost.readLine()).path("id").asLong();
                try {
                    write(guest, line + "\n");
                    write(guest, "{\"id\": " + id + ", \"ok\": true, \"result\": \"real\"}\n");
                } catch (IOException hungUp) {
                    // the host refused the line and closed the connection mid-write; the reply must say why
                }
                try {
                    JsonNode r = reply.get(10, TimeUnit.SECONDS);
                    if (r.path("result").asText().equals("real")) return; // the line was taken and did no harm
                    assertEquals(id, r.path("id").asLong(), "only a reply with the request's id completes it: " + r);
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c ? c.getCause() : e.getCause();
                    assertTrue(cause instanceof VmException.Protocol, "a refused line is named, got " + cause);
                } catch (java.util.concurrent.TimeoutException e) {
                    fail("the host hung on line " + line.substring(0, Math.min(80, line.length())));
                }
            }
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }

    private static void write(SocketChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) ch.write(b);
    }
}
