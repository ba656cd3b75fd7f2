package dev.thaw.api;

import dev.thaw.api.ApiFixture.Answer;
import dev.thaw.api.ApiFixture.RawAnswer;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP layer around the routes: 405 with {@code Allow} for every wrong method on every
 * route, JSON 404s, HEAD, body limits, requests Helidon refuses before routing, and an
 * unexpected exception — each answered with the API's JSON error body.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiProtocolTest {
    static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

    final ApiFixture api = new ApiFixture();

    @AfterAll
    void close() {
        api.close();
    }

    /** The route table by path, in declaration order: path → its methods. */
    private Map<String, List<String>> routes() {
        return api.api.endpoints().stream().collect(Collectors.groupingBy(Endpoint::path, LinkedHashMap::new,
                Collectors.mapping(e -> e.method().text(), Collectors.toList())));
    }

    static String concrete(String template) {
        return template.replaceAll("\\{[^}]+}", "x");
    }

    @Test
    void everyWrongMethodOnEveryRouteIs405WithAllow() {
        Map<String, List<String>> routes = routes();
        assertTrue(routes.size() >= 13, "the route table has every path: " + routes.keySet());
        int checked = 0;
        for (var route : routes.entrySet()) {
            String path = concrete(route.getKey());
            String allow = String.join(", ", route.getValue());
            for (String method : METHODS) {
                if (route.getValue().contains(method)) continue;
                Answer a = api.method(method, path);
                assertEquals(405, a.status(), method + " " + path + ": " + a);
                assertEquals(allow, a.header("allow"), method + " " + path);
                assertEquals("application/json", a.header("content-type"));
                assertEquals("method_not_allowed", a.errorCode());
                assertEquals(method + " is not allowed here; use " + allow, a.json().path("error").path("message").asText());
                checked++;
            }
        }
        assertTrue(checked > 50, "wrong methods tried: " + checked);
    }

    @Test
    void headIsAWrongMethodTooAndHasNoBody() {
        Answer a = api.send(HttpRequest.newBuilder(api.uri("/healthz")).HEAD());
        assertEquals(405, a.status());
        assertEquals("GET", a.header("allow"));
        assertEquals("", a.body());
        assertEquals(200, api.get("/healthz").status(), "the connection is still usable");
    }

    @Test
    void theRoutesDeclaredPerServiceAreTheKnownOnes() {
        Map<String, List<String>> routes = routes();
        assertEquals(List.of("GET", "PUT", "DELETE"), routes.get("/functions/{name}"));
        assertEquals(List.of("POST"), routes.get("/functions/{name}/invoke"));
        assertEquals(List.of("GET"), routes.get("/invocations/{id}"));
        assertEquals(List.of("DELETE"), routes.get("/instances/{id}"));
        assertEquals(Set.of("/healthz", "/metrics", "/stats", "/snapshots", "/openapi.yaml", "/functions", "/functions/{name}",
                        "/functions/{name}/invoke", "/functions/{name}/prewarm", "/functions/{name}/cache/drop",
                        "/invocations/{id}", "/instances", "/instances/{id}", "/traces", "/traces/{traceId}"),
                routes.keySet());
    }

    @Test
    void unknownPathsAreJson404s() {
        for (String method : METHODS) {
            for (String path : new String[]{"/", "/nope", "/functions/a/b", "/traces/a/b", "/functions/a/cache"}) {
                Answer a = api.method(method, path);
                assertEquals(404, a.status(), method + " " + path);
                assertEquals("not_found", a.errorCode());
                assertEquals("no route for " + method + " " + path, a.json().path("error").path("message").asText());
            }
        }
    }

    @Test
    void pathsMayHaveStraySlashes() {
        assertEquals(200, api.get("/healthz/").status());
        assertEquals(200, api.get("//healthz").status());
        assertEquals(400, api.get("/traces/?limit=0").status(), "the query survives the rewrite");
        assertEquals(405, api.method("POST", "/healthz/").status());
    }

    @Test
    void bodiesOverTheLimitAre413AndTheServerGoesOn() {
        api.fake.deploy("limited");
        String big = "{\"x\": \"" + "a".repeat((int) ApiFixture.MAX_BODY) + "\"}";
        Answer sized = api.post("/functions/limited/invoke", big);
        assertEquals(413, sized.status());
        assertEquals("body_too_large", sized.errorCode());
        assertEquals("request body is larger than the limit of 4096 bytes", sized.json().path("error").path("message").asText());

        Answer chunked = api.send(HttpRequest.newBuilder(api.uri("/functions/limited/invoke"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes()))));
        assertEquals(413, chunked.status());
        assertEquals("body_too_large", chunked.errorCode());

        Answer deploy = api.put("/functions/limited", "application/x-tar", new byte[(int) ApiFixture.MAX_BODY + 1]);
        assertEquals(413, deploy.status());

        String atTheLimit = "{\"x\": \"" + "a".repeat((int) ApiFixture.MAX_BODY - 9) + "\"}";
        assertEquals(ApiFixture.MAX_BODY, atTheLimit.length());
        assertEquals(200, api.post("/functions/limited/invoke", atTheLimit).status(), "a body of exactly the limit is fine");
    }

    @Test
    void aHugeBodyIsRefusedUnreadAndTheConnectionClosed() {
        RawAnswer a = api.raw("POST /functions/any/invoke HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n");
        assertEquals(413, a.status());
        assertEquals("close", a.headers().get("connection"));
        assertEquals("body_too_large", Json.parse(a.body()).path("error").path("code").asText());
    }

    @Test
    void requestsHelidonRefusesBeforeRoutingAreJsonToo() {
        for (String bad : new String[]{
                "GET /healthz HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
                "GET /he lthz HTTP/1.1\r\nHost: t\r\n\r\n",
                "GET /healthz HTTP/7.0\r\nHost: t\r\n\r\n"}) {
            RawAnswer a = api.raw(bad);
            assertTrue(a.status() >= 400 && a.status() < 600, a.statusLine());
            assertEquals("application/json", a.headers().get("content-type"), bad + " -> " + a);
            var error = Json.parse(a.body()).path("error");
            assertFalse(error.path("code").asText().isEmpty(), a.body());
            assertFalse(error.path("message").asText().isEmpty(), a.body());
        }
        assertEquals(200, api.get("/healthz").status());
    }

    @Test
    void aPortInUseIsAnErrorAtStart() {
        ApiServer second = new ApiServer(api.fake.platform, new InetSocketAddress("127.0.0.1", api.api.port()), 1024);
        IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
        assertTrue(e.getMessage().contains("cannot listen on"), e.getMessage());
        second.close();
        assertEquals(200, api.get("/healthz").status(), "the first server still serves");
    }

    @Test
    void anUnexpectedExceptionIsALogged500() {
        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(ApiServer.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(capture);
        try {
            api.fake.deploy("flaky");
            api.fake.launcher.failNextLaunch(new IllegalStateException("the launcher has a bug"));
            Answer a = api.post("/functions/flaky/prewarm", "");
            assertEquals(500, a.status(), a.toString());
            assertEquals("internal", a.errorCode());
            assertEquals("java.lang.IllegalStateException: the launcher has a bug", a.json().path("error").path("message").asText());
            assertTrue(logged.stream().anyMatch(r -> r.getLevel() == Level.SEVERE && r.getThrown() instanceof IllegalStateException
                    && r.getMessage().contains("POST /functions/flaky/prewarm")), "logged: " + logged);
            assertEquals(200, api.post("/functions/flaky/prewarm", "").status(), "the server and the function are still fine");
        } finally {
            log.removeHandler(capture);
        }
    }
}
