package dev.thaw.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The client against a stand-in daemon on loopback: answers, error bodies, Retry-After, no daemon, no answer. */
class DaemonClientTest {
    HttpServer server;
    DaemonClient client;
    String url;
    /** The last request per path: method, query, Content-Type and body. */
    final Map<String, String> seen = new ConcurrentHashMap<>();
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.put(path, ex.getRequestMethod() + " " + ex.getRequestURI().getRawQuery() + " "
                    + ex.getRequestHeaders().getFirst("Content-Type") + " " + body);
            switch (path) {
                case "/healthz" -> send(ex, 200, "{\"status\": \"ok\", \"accel\": \"tcg\"}");
                case "/functions/hello" -> send(ex, ex.getRequestMethod().equals("PUT") ? 201 : 200, "{\"name\": \"hello\", \"memory_mib\": 256}");
                case "/functions/hello/invoke" -> send(ex, 200, "{\"result\": {\"echo\": " + body + "}}");
                case "/functions/hello/cache/drop" -> send(ex, 200, "{\"dropped\": [\"/d/memory\"]}");
                case "/functions/broken/invoke" -> send(ex, 500, "{\"error\": {\"code\": \"handler_error\", "
                        + "\"message\": \"broken raised ValueError: bad\", \"traceback\": \"Traceback...\\nValueError: bad\\n\"}}");
                case "/functions/busy/invoke" -> {
                    ex.getResponseHeaders().set("Retry-After", "7");
                    send(ex, 429, "{\"error\": {\"code\": \"too_many_requests\", \"message\": \"limit reached\", \"retry_after_s\": 3}}");
                }
                case "/functions/queued/invoke" -> send(ex, 429, "{\"error\": {\"code\": \"too_many_requests\", \"message\": \"queue full\", \"retry_after_s\": 2}}");
                case "/traces" -> send(ex, 200, "{\"data\": []}");
                case "/store-offline" -> send(ex, 503, "{\"error\": \"store offline\"}");
                case "/proxy" -> send(ex, 502, "<html>Bad Gateway</html>");
                case "/empty-error" -> send(ex, 500, "");
                case "/empty-ok" -> send(ex, 204, "");
                case "/not-json" -> send(ex, 200, "hello");
                case "/slow" -> {
                    try {
                        release.await(30, TimeUnit.SECONDS); // past the client's deadline; the test lets it go
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    send(ex, 200, "{}");
                }
                default -> send(ex, 404, "{\"error\": {\"code\": \"not_found\", \"message\": \"no route " + path + "\"}}");
            }
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
        client = new DaemonClient(url + "/");
    }

    @AfterEach
    void stop() {
        release.countDown();
        client.close();
        server.stop(0);
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Test
    void answersAreTheDaemonsJson() {
        assertEquals(url, client.url(), "the trailing slash is dropped");
        assertEquals("tcg", client.health().path("accel").asText());
        assertEquals(256, client.function("hello").orElseThrow().path("memory_mib").asInt());
        assertEquals(Optional.empty(), client.function("nope"));

        JsonNode answer = client.invoke("hello", "vanilla", Json.parse("{\"n\": 3}"));
        assertEquals(3, answer.at("/result/echo/n").asInt());
        assertEquals("POST mode=vanilla application/json {\"n\":3}", seen.get("/functions/hello/invoke"));

        client.deploy("hello", Path.of("/srv/functions/hello"));
        assertEquals("PUT null application/json {\"path\":\"/srv/functions/hello\"}", seen.get("/functions/hello"));

        assertEquals(Optional.of(List.of("/d/memory")), client.dropCache("hello"));
        assertEquals(Optional.empty(), client.dropCache("old"), "no endpoint on an older daemon");
        assertFalse(client.stopInstance("gone-1"));

        assertEquals("{\"data\": []}", client.traces(7, "resize", "10 m"));
        assertEquals("GET limit=7&function=resize&since=10+m null ", seen.get("/traces"));

        assertTrue(client.get("/empty-ok").isEmpty(), "no body is an empty object");
    }

    @Test
    void anErrorAnswerCarriesStatusCodeMessageAndBody() {
        DaemonException e = assertThrows(DaemonException.class, () -> client.invoke("broken", "warm", Json.object()));
        assertEquals(500, e.status());
        assertEquals("handler_error", e.code());
        assertEquals("broken raised ValueError: bad", e.errorMessage());
        assertEquals("Traceback...\nValueError: bad\n", e.error().path("traceback").asText());
        assertEquals("POST " + url + "/functions/broken/invoke?mode=warm", e.request());
        assertEquals(e.request() + ": HTTP 500 handler_error: broken raised ValueError: bad", e.getMessage());
        assertEquals(Optional.empty(), e.retryAfter());
    }

    @Test
    void errorBodiesThatAreNotThawsShapeStillGiveAMessage() {
        DaemonException bare = assertThrows(DaemonException.class, () -> client.get("/store-offline"));
        assertEquals(503, bare.status());
        assertEquals("", bare.code());
        assertEquals("GET " + url + "/store-offline: HTTP 503: store offline", bare.getMessage());

        DaemonException html = assertThrows(DaemonException.class, () -> client.get("/proxy"));
        assertEquals("<html>Bad Gateway</html>", html.errorMessage());
        assertEquals("<html>Bad Gateway</html>", html.body().asText());

        DaemonException empty = assertThrows(DaemonException.class, () -> client.post("/empty-error"));
        assertEquals("POST " + url + "/empty-error: HTTP 500", empty.getMessage());
        assertTrue(empty.error().isMissingNode());

        IllegalStateException notJson = assertThrows(IllegalStateException.class, () -> client.get("/not-json"));
        assertTrue(notJson.getMessage().startsWith("GET " + url + "/not-json: the answer is not JSON"), notJson.getMessage());
    }

    @Test
    void tooManyRequestsSaysWhenToComeBack() {
        DaemonException e = assertThrows(DaemonException.class, () -> client.invoke("busy", "warm", Json.object()));
        assertEquals(429, e.status());
        assertEquals("too_many_requests", e.code());
        assertEquals(Optional.of(Duration.ofSeconds(7)), e.retryAfter(), "the header wins over the body");

        DaemonException noHeader = assertThrows(DaemonException.class, () -> client.invoke("queued", "warm", Json.object()));
        assertEquals(Optional.of(Duration.ofSeconds(2)), noHeader.retryAfter(), "else the daemon's retry_after_s");
    }

    @Test
    void retryAfterIsSecondsOrAnHttpDate() {
        Instant now = Instant.parse("2025-03-01T12:00:00Z");
        assertEquals(Duration.ofSeconds(120), DaemonException.parseRetryAfter("120", now));
        assertEquals(Duration.ofSeconds(30), DaemonException.parseRetryAfter("Sat, 01 Mar 2025 12:00:30 GMT", now));
        assertEquals(Duration.ZERO, DaemonException.parseRetryAfter("Sat, 01 Mar 2025 11:00:00 GMT", now), "a past date: now");
        assertNull(DaemonException.parseRetryAfter("soon", now));
        assertNull(DaemonException.parseRetryAfter("-5", now));
        assertNull(DaemonException.parseRetryAfter(null, now));
    }

    @Test
    void noDaemonIsConnectionRefusedNamingTheUrl() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there now
        }
        try (DaemonClient nobody = new DaemonClient("http://127.0.0.1:" + port)) {
            DaemonUnreachableException e = assertThrows(DaemonUnreachableException.class, nobody::health);
            assertEquals("cannot reach the daemon at http://127.0.0.1:" + port + ": connection refused", e.getMessage());
            assertFalse(e.timedOut());
        }
    }

    @Test
    void aRequestPastItsDeadlineIsATimeoutNamingIt() {
        var timeouts = new DaemonClient.Timeouts(Duration.ofSeconds(5), Duration.ofMillis(200), Duration.ofMinutes(1), Duration.ofMinutes(1));
        try (DaemonClient impatient = new DaemonClient(url, timeouts)) {
            DaemonUnreachableException e = assertThrows(DaemonUnreachableException.class, () -> impatient.get("/slow"));
            assertTrue(e.timedOut());
            assertEquals("the daemon at " + url + " did not answer GET " + url + "/slow within 200 ms", e.getMessage());
        } finally {
            release.countDown();
        }
    }

    @Test
    void badUrlsAndTimeoutsAreRefusedUpFront() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DaemonClient("127.0.0.1:8080")).getMessage()
                .startsWith("bad daemon URL 127.0.0.1:8080"));
        assertThrows(IllegalArgumentException.class, () -> new DaemonClient.Timeouts(Duration.ZERO, Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> client.get("healthz"));
    }
}
