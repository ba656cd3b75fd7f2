package dev.thaw.api;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes every route of the HTTP API with generated requests (method, path with odd segments,
 * query, body, content type) against a daemon on fake guests: whatever a client sends, the answer
 * is a JSON error below 500 or a success, never a server fault, and the daemon keeps answering.
 * Events never carry the fake guest's own instructions (hang, die, …), which are real 5xx.
 */
class ApiFuzzTest {
    static ApiFixture api;

    @BeforeContainer
    static void start() {
        api = new ApiFixture();
        api.fake.deploy("hello");
    }

    @AfterContainer
    static void stop() {
        api.close();
    }

    static final List<String> TEMPLATES = List.of("/functions", "/functions/{}", "/functions/{}/invoke", "/functions/{}/prewarm",
            "/functions/{}/cache/drop", "/invocations/{}", "/instances", "/instances/{}", "/snapshots", "/snapshots/{}/files/{}", "/traces", "/traces/{}",
            "/healthz", "/metrics", "/openapi.yaml", "/{}", "/{}/{}/{}");
    static final List<String> FAKE_INSTRUCTIONS = List.of("hang", "die", "gate", "raise", "call", "claim_exec_ms");

    record Call(String method, String path, String query, String contentType, String body) {}

    @Provide
    Arbitrary<Call> calls() {
        Arbitrary<String> method = Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
        Arbitrary<String> segment = Arbitraries.oneOf(Arbitraries.of("hello", "nope", "inv-1", "i-1", "", "..", "%2e%2e"),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(40).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
        Arbitrary<String> path = Combinators.combine(Arbitraries.of(TEMPLATES), segment.list().ofSize(3))
                .as((t, segs) -> t.replaceFirst("\\{}", segs.get(0)).replaceFirst("\\{}", segs.get(1)).replaceFirst("\\{}", segs.get(2)));
        Arbitrary<String> query = Arbitraries.oneOf(Arbitraries.just(""),
                Arbitraries.of("?mode=warm", "?mode=cold", "?mode=sideways", "?async=true", "?count=0", "?count=99999999999",
                        "?count=2", "?format=zipkin", "?format=x", "?since=10m", "?since=x", "?limit=-1", "?mode=vanilla&async=true"),
                Arbitraries.strings().ofMaxLength(30).map(s -> "?" + URLEncoder.encode(s, StandardCharsets.UTF_8) + "=x"));
        Arbitrary<String> contentType = Arbitraries.of("application/json", "application/x-tar", "application/octet-stream", "text/plain", "");
        Arbitrary<String> body = Arbitraries.oneOf(Arbitraries.just(""), Arbitraries.strings().ofMaxLength(200), jsonish(),
                Arbitraries.integers().between(1, 3000).map(n -> "[".repeat(n)),
                Arbitraries.of("{\"path\": \"/\"}", "{\"path\": \"/etc\"}", "{\"path\": 3}", "null", "[]", "{\"name\": \"x\"}"));
        return Combinators.combine(method, path, query, contentType, body).as(Call::new);
    }

    /** Random JSON objects, without the keys the fake guest obeys. */
    static Arbitrary<String> jsonish() {
        Arbitrary<String> key = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8).filter(k -> !FAKE_INSTRUCTIONS.contains(k));
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.integers().map(String::valueOf), Arbitraries.of("true", "null", "1e999", "-0.0"),
                Arbitraries.strings().ofMaxLength(20).map(s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""));
        return Combinators.combine(key, value).as((k, v) -> "\"" + k + "\": " + v).list().ofMaxSize(5)
                .map(kv -> "{" + String.join(", ", kv) + "}");
    }

    @Property(tries = 10_000)
    void noRequestMakesTheServerFail(@ForAll("calls") Call c) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.api.url() + c.path() + c.query()));
        if (!c.contentType().isEmpty()) b.header("Content-Type", c.contentType());
        b.method(c.method(), c.method().equals("GET") || c.method().equals("HEAD") ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(c.body()));
        ApiFixture.Answer a = api.send(b);
        assertTrue(a.status() < 500, c + " -> " + a);
        if (a.status() >= 400 && !c.method().equals("HEAD")) {
            assertTrue(a.body().startsWith("{\"error\""), "errors are JSON: " + c + " -> " + a);
        }
    }
}
