package dev.thaw.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thaw.client.DaemonException;
import dev.thaw.client.DaemonUnreachableException;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The HTTP side of the daemon contract, against a stand-in server speaking thaw's API. */
class HttpDaemonTest {
    HttpServer server;
    HttpDaemon daemon;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath(), query = String.valueOf(ex.getRequestURI().getQuery());
            switch (path) {
                case "/functions/new/cache/drop" -> send(ex, 200, "{\"dropped\": [\"/d/new/snapshot/memory\", \"/d/new/snapshot/vmstate\"]}");
                case "/functions/new/invoke" -> send(ex, query.equals("mode=faasnap") ? 200 : 500,
                        query.equals("mode=faasnap") ? "{\"timing_ms\": {\"total\": 5}}" : "{\"error\": {\"code\": \"vm_failed\", \"message\": \"died\"}}");
                case "/functions/old/invoke" -> send(ex, 400, "{\"error\": {\"code\": \"bad_mode\", \"message\": \"unknown mode \\\"faasnap\\\"\"}}");
                case "/functions/old" -> send(ex, 200, "{\"name\": \"old\", \"memory_mib\": 256}");
                default -> send(ex, 404, "{\"error\": {\"code\": \"not_found\", \"message\": \"no route\"}}");
            }
        });
        server.start();
        daemon = new HttpDaemon("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Test
    void dropEndpointAnswersTheDroppedPathsOrIsMissingOnAnOlderDaemon() {
        assertEquals(Optional.of(List.of("/d/new/snapshot/memory", "/d/new/snapshot/vmstate")), daemon.dropCache("new"));
        assertEquals(Optional.empty(), daemon.dropCache("old"));
    }

    @Test
    void anUnknownModeIsRecognisedAndOtherErrorsAreNot() {
        DaemonException f = assertThrows(DaemonException.class, () -> daemon.invoke("old", "faasnap", Json.object()));
        assertEquals(400, f.status());
        assertTrue(Daemon.unknownMode(f));
        DaemonException died = assertThrows(DaemonException.class, () -> daemon.invoke("new", "vanilla", Json.object()));
        assertEquals("vm_failed", died.code());
        assertFalse(Daemon.unknownMode(died));
        assertEquals(5, daemon.invoke("new", "faasnap", Json.object()).path("timing_ms").path("total").asInt());
    }

    @Test
    void aMissingFunctionIsEmptyNotAnError() {
        assertTrue(daemon.function("nope").isEmpty());
        assertEquals(256, daemon.function("old").orElseThrow().path("memory_mib").asInt());
    }

    @Test
    void anUnreachableDaemonIsAnUnreachableExceptionNamingTheUrl() {
        server.stop(0);
        DaemonUnreachableException e = assertThrows(DaemonUnreachableException.class, () -> daemon.health());
        assertTrue(e.getMessage().contains("cannot reach the daemon at " + daemon.url()), e.getMessage());
    }
}
