package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ApiFixture.Answer;
import dev.thaw.platform.Limits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every route of the API on fake guests: what a success looks like, and each way a call fails
 * (unknown names, bad input, the guest's failures, limits). One server for the class; each test
 * works on functions of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiServerTest {
    final ApiFixture api = new ApiFixture();

    @AfterAll
    void close() {
        api.close();
    }

    @Test
    void healthzDescribesTheDaemon() {
        Answer a = api.get("/healthz");
        assertEquals(200, a.status());
        assertEquals("application/json", a.header("content-type"));
        JsonNode h = a.json();
        assertEquals("ok", h.path("status").asText());
        assertEquals("tcg", h.path("accel").asText());
        assertEquals("fake", h.path("image").asText());
        assertEquals("drop", h.path("vmm_thp_advice").asText());
        assertTrue(h.path("snapshots_verified").isBoolean());
    }

    @Test
    void metricsArePrometheusText() {
        api.fake.deploy("metered");
        api.post("/functions/metered/invoke", "{}");
        api.post("/functions/metered/invoke?mode=nope", "{}");
        Answer a = api.get("/metrics");
        assertEquals(200, a.status());
        assertEquals("text/plain; version=0.0.4", a.header("content-type"));
        assertTrue(a.body().contains("# TYPE thaw_invocations_total counter"), a.body());
        assertTrue(a.body().lines().anyMatch(l -> l.startsWith("thaw_invocations_total{") && l.contains("metered")), a.body());
        assertTrue(a.body().lines().anyMatch(l -> l.startsWith("thaw_invocation_errors_total{") && l.contains("bad_mode")),
                "a bad mode is counted as an error of its function: " + a.body());
    }

    @Test
    void openapiIsServedAsYaml() {
        Answer a = api.get("/openapi.yaml");
        assertEquals(200, a.status());
        assertTrue(a.header("content-type").matches("(application|text)/yaml.*"), a.header("content-type"));
        assertArrayEquals(SystemService.openapi(), a.body().getBytes(StandardCharsets.UTF_8));
        assertTrue(a.body().startsWith("openapi: 3"));
    }

    @Test
    void snapshotsListEveryManifestWithItsDirectory() {
        api.fake.deploy("snapped");
        Answer a = api.get("/snapshots");
        assertEquals(200, a.status());
        JsonNode mine = find(a.json().path("snapshots"), "function", "snapped");
        assertEquals(1, mine.path("version").asInt());
        assertTrue(mine.path("path").asText().endsWith("snapshot"), mine.toString());
        assertTrue(mine.path("files").size() >= 2, mine.toString());
    }

    @Test
    void snapshotFilesAreServedInPiecesForPeers() throws Exception {
        api.fake.deploy("peered");
        Answer manifest = api.get("/snapshots/peered/files/manifest.json");
        assertEquals(200, manifest.status());
        assertEquals("peered", manifest.json().path("function").asText());
        Answer piece = api.get("/snapshots/peered/files/memory?offset=4096&length=100");
        assertEquals(200, piece.status());
        assertEquals(100, piece.body().length());
        assertEquals(Long.toString(java.nio.file.Files.size(api.fake.platform.snapshotDir("peered").resolve("memory"))),
                piece.header("X-Thaw-File-Size"));
        assertEquals(404, api.get("/snapshots/peered/files/code.tar").status(), "only snapshot files");
        assertEquals(404, api.get("/snapshots/nope/files/memory").status());
        assertEquals("bad_request", api.get("/snapshots/peered/files/memory?offset=x").errorCode());
        assertEquals(400, api.get("/snapshots/peered/files/memory?length=99999999").status());
    }

    @Test
    void snapshotFilesAnswerAStandardRangeWith206() throws Exception {
        api.fake.deploy("ranged");
        long size = java.nio.file.Files.size(api.fake.platform.snapshotDir("ranged").resolve("memory"));
        Answer piece = api.send(java.net.http.HttpRequest.newBuilder(api.uri("/snapshots/ranged/files/memory")).header("Range", "bytes=4096-4195").GET());
        assertEquals(206, piece.status());
        assertEquals(100, piece.body().length());
        assertEquals("bytes 4096-4195/" + size, piece.header("Content-Range"));
        Answer tail = api.send(java.net.http.HttpRequest.newBuilder(api.uri("/snapshots/ranged/files/memory")).header("Range", "bytes=-10").GET());
        assertEquals("bytes " + (size - 10) + "-" + (size - 1) + "/" + size, tail.header("Content-Range"));
        Answer past = api.send(java.net.http.HttpRequest.newBuilder(api.uri("/snapshots/ranged/files/memory")).header("Range", "bytes=" + size + "-").GET());
        assertEquals(416, past.status());
        assertEquals("bytes */" + size, past.header("Content-Range"));
        assertEquals("range_not_satisfiable", past.errorCode());
        Answer two = api.send(java.net.http.HttpRequest.newBuilder(api.uri("/snapshots/ranged/files/memory")).header("Range", "bytes=0-1,5-6").GET());
        assertEquals("bad_request", two.errorCode(), "one range only");
        Answer both = api.send(java.net.http.HttpRequest.newBuilder(api.uri("/snapshots/ranged/files/memory?offset=0")).header("Range", "bytes=0-1").GET());
        assertEquals("bad_request", both.errorCode());
    }

    @Test
    void functionsAreListedAndShown() {
        api.fake.deploy("listed");
        Answer list = api.get("/functions");
        assertEquals(200, list.status());
        assertEquals(256, find(list.json().path("functions"), "name", "listed").path("memory_mib").asInt());
        Answer one = api.get("/functions/listed");
        assertEquals(200, one.status());
        assertEquals("listed", one.json().path("name").asText());
        assertEquals("listed", one.json().path("snapshot").path("function").asText());
        assertFalse(one.json().path("working_set_recorded").asBoolean());
    }

    @Test
    void unknownFunctionIsA404Everywhere() {
        for (Answer a : new Answer[]{api.get("/functions/ghost"), api.delete("/functions/ghost"),
                api.post("/functions/ghost/invoke", "{}"), api.post("/functions/ghost/prewarm", ""),
                api.post("/functions/ghost/cache/drop", "")}) {
            assertEquals(404, a.status(), a.toString());
            assertEquals("not_found", a.errorCode());
            assertTrue(a.json().path("error").path("message").asText().contains("ghost"), a.toString());
        }
    }

    @Test
    void deployByPathThenUndeploy() {
        Path dir = api.fake.functionDir("bypath", "{\"name\": \"bypath\", \"memory_mib\": 128, \"record\": false}");
        Answer deployed = api.put("/functions/bypath", "application/json",
                ("{\"path\": \"" + dir + "\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(201, deployed.status(), deployed.toString());
        assertEquals("bypath", deployed.json().path("name").asText());
        assertEquals(128, deployed.json().path("memory_mib").asInt());
        assertEquals(200, api.get("/functions/bypath").status());

        Answer deleted = api.delete("/functions/bypath");
        assertEquals(200, deleted.status());
        assertEquals("{\"deleted\":\"bypath\"}", deleted.body());
        assertEquals(404, api.get("/functions/bypath").status());
    }

    @Test
    void deployByTarUpload() throws Exception {
        Path dir = api.fake.functionDir("bytar", "{\"name\": \"bytar\", \"memory_mib\": 128, \"record\": false}");
        Answer deployed = api.put("/functions/bytar", "application/x-tar", ApiFixture.tar(dir));
        assertEquals(201, deployed.status(), deployed.toString());
        assertEquals("bytar", deployed.json().path("name").asText());
        Answer invoked = api.post("/functions/bytar/invoke", "{\"n\": 7}");
        assertEquals(200, invoked.status(), invoked.toString());
        assertEquals(7, invoked.json().path("result").path("echo").path("n").asInt());
    }

    @Test
    void badDeployBodiesAre400s() {
        Path dir = api.fake.functionDir("named", "{\"name\": \"named\", \"record\": false}");
        Answer mismatch = api.put("/functions/other", "application/json", ("{\"path\": \"" + dir + "\"}").getBytes());
        assertEquals(400, mismatch.status());
        assertEquals("bad_request", mismatch.errorCode());
        assertTrue(mismatch.body().contains("URL names function \\\"other\\\""), mismatch.body());

        Answer badJson = api.put("/functions/named", "application/json", "{nope".getBytes());
        assertEquals(400, badJson.status());
        assertEquals("bad_json", badJson.errorCode());

        Answer noPath = api.put("/functions/named", "application/json", "{\"dir\": \"/x\"}".getBytes());
        assertEquals(400, noPath.status());
        assertEquals("bad_request", noPath.errorCode());

        Answer notADir = api.put("/functions/named", "application/json", "{\"path\": \"/no/such/dir\"}".getBytes());
        assertEquals(400, notADir.status(), "the platform's IllegalArgumentException is the client's mistake");
        assertEquals("bad_request", notADir.errorCode());

        Answer badTar = api.put("/functions/named", "application/x-tar", new byte[]{1, 2, 3});
        assertEquals(400, badTar.status(), badTar.toString());
    }

    @Test
    void invokeAnswersTheHandlersResultAndItsTraceContext() {
        api.fake.deploy("echo");
        Answer a = api.post("/functions/echo/invoke?mode=cold", "{\"name\": \"you\"}");
        assertEquals(200, a.status(), a.toString());
        JsonNode r = a.json();
        assertEquals("echo", r.path("function").asText());
        assertEquals("you", r.path("result").path("echo").path("name").asText());
        assertEquals("cold", r.path("mode").asText());
        assertEquals("cold", r.path("cold_start").asText());
        assertEquals(3305.0, r.path("timing_ms").path("total").asDouble(), 0.001);
        String traceparent = a.header("traceparent");
        assertNotNull(traceparent);
        assertEquals(r.path("trace_id").asText(), traceparent.split("-")[1]);

        String caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Answer continued = api.send(HttpRequest.newBuilder(api.uri("/functions/echo/invoke")).header("traceparent", caller)
                .POST(HttpRequest.BodyPublishers.ofString("")));
        assertEquals(200, continued.status());
        assertEquals("warm", continued.json().path("mode").asText());
        assertEquals("{}", continued.json().path("result").path("echo").toString(), "an empty body is the event {}");
        assertTrue(continued.header("traceparent").startsWith("00-0af7651916cd43dd8448eb211c80319c-"), continued.header("traceparent"));
        assertEquals("0af7651916cd43dd8448eb211c80319c", continued.json().path("trace_id").asText());
    }

    @Test
    void badInvocationsAre400s() {
        api.fake.deploy("picky");
        Answer mode = api.post("/functions/picky/invoke?mode=sideways", "{}");
        assertEquals(400, mode.status());
        assertEquals("bad_mode", mode.errorCode());
        assertTrue(mode.json().path("error").path("message").asText().contains("cold, vanilla, cached, reap, reap-cache, faasnap, faasnap-sparse, uffd, thaw, warm"), mode.toString());
        Answer json = api.post("/functions/picky/invoke", "{\"unterminated\": ");
        assertEquals(400, json.status());
        assertEquals("bad_json", json.errorCode());
        // Past Jackson's nesting (1000) and number-length (1000) limits: still a 400 naming the JSON, never a 500.
        Answer deep = api.post("/functions/picky/invoke", "[".repeat(3_000));
        assertEquals(400, deep.status(), deep.toString());
        assertEquals("bad_json", deep.errorCode());
        Answer huge = api.post("/functions/picky/invoke", "{\"n\": " + "9".repeat(3_000) + "}");
        assertEquals(400, huge.status(), huge.toString());
    }

    @Test
    void guestFailuresHaveTheirOwnStatuses() {
        api.fake.deploy("fragile");
        Answer raised = api.post("/functions/fragile/invoke", "{\"raise\": \"broken\"}");
        assertEquals(500, raised.status());
        assertEquals("handler_error", raised.errorCode());
        assertEquals("ValueError", raised.json().path("error").path("type").asText());
        assertTrue(raised.json().path("error").path("traceback").asText().contains("Traceback"), raised.toString());

        Answer hung = api.post("/functions/fragile/invoke", "{\"hang\": true}");
        assertEquals(504, hung.status());
        assertEquals("vm_timeout", hung.errorCode());

        Answer died = api.post("/functions/fragile/invoke", "{\"die\": true}");
        assertEquals(502, died.status());
        assertEquals("vm_failed", died.errorCode());

        assertEquals(200, api.post("/functions/fragile/invoke", "{}").status(), "the next call gets a fresh VM");
    }

    @Test
    void aFullQueueIs429WithRetryAfter() {
        try (ApiFixture tight = new ApiFixture(new Limits(1, 4096, 1, 0, Duration.ZERO))) {
            tight.fake.deploy("busy");
            CompletableFuture<Answer> first = tight.sendAsync(HttpRequest.newBuilder(tight.uri("/functions/busy/invoke"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"gate\": \"g\"}")));
            tight.fake.launcher.awaitAtGate(1); // the gated call holds the slot
            Answer refused = tight.post("/functions/busy/invoke", "{}");
            tight.fake.launcher.gate("g").countDown();
            assertEquals(429, refused.status(), refused.toString());
            assertEquals("limit_exceeded", refused.errorCode());
            assertEquals("queue_full", refused.json().path("error").path("limit").asText());
            assertEquals(1, refused.json().path("error").path("retry_after_s").asInt());
            assertEquals("1", refused.header("retry-after"));
            assertEquals(200, first.join().status(), "the call that held the slot finishes");
        }
    }

    @Test
    void asyncInvocationIs202ThenItsResult() {
        api.fake.deploy("later");
        Answer accepted = api.post("/functions/later/invoke?async=true&mode=vanilla", "{\"k\": 1}");
        assertEquals(202, accepted.status(), accepted.toString());
        String id = accepted.json().path("invocation_id").asText();
        assertTrue(id.startsWith("inv-"), id);
        assertEquals("later", accepted.json().path("function").asText());
        assertEquals("vanilla", accepted.json().path("mode").asText());

        JsonNode done = awaitFinished(id);
        assertEquals("succeeded", done.path("state").asText());
        assertEquals(200, done.path("status").asInt());
        assertEquals(1, done.path("response").path("result").path("echo").path("k").asInt());
        assertNotNull(Instant.parse(done.path("finished").asText()));

        String failed = api.post("/functions/later/invoke?async=true", "{\"raise\": \"no\"}").json().path("invocation_id").asText();
        JsonNode f = awaitFinished(failed);
        assertEquals("failed", f.path("state").asText());
        assertEquals(500, f.path("status").asInt());
        assertEquals("handler_error", f.path("error").path("code").asText());

        Answer unknown = api.get("/invocations/inv-0");
        assertEquals(404, unknown.status());
        assertEquals("not_found", unknown.errorCode());
    }

    /** Polls until the invocation ended; fake guests answer at once, so this takes a few round trips. */
    private JsonNode awaitFinished(String id) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            Answer a = api.get("/invocations/" + id);
            assertEquals(200, a.status(), a.toString());
            String state = a.json().path("state").asText();
            if (state.equals("succeeded") || state.equals("failed")) return a.json();
            Thread.onSpinWait();
        }
        throw new AssertionError("invocation " + id + " did not finish within 10 s");
    }

    @Test
    void prewarmedInstancesAreListedAndStopped() {
        api.fake.deploy("warmed");
        Answer pre = api.post("/functions/warmed/prewarm?count=2", "");
        assertEquals(200, pre.status(), pre.toString());
        assertEquals("warmed", pre.json().path("function").asText());
        Set<String> ids = new HashSet<>();
        pre.json().path("instances").forEach(i -> ids.add(i.asText()));
        assertEquals(2, ids.size());

        Set<String> listed = new HashSet<>();
        api.get("/instances").json().path("instances").forEach(i -> {
            if (i.path("function").asText().equals("warmed")) {
                listed.add(i.path("id").asText());
                assertEquals("idle", i.path("state").asText());
            }
        });
        assertEquals(ids, listed);

        String id = ids.iterator().next();
        Answer stopped = api.delete("/instances/" + id);
        assertEquals(200, stopped.status());
        assertEquals("{\"stopped\":\"" + id + "\"}", stopped.body());
        Answer again = api.delete("/instances/" + id);
        assertEquals(404, again.status());
        assertEquals("not_found", again.errorCode());
    }

    @Test
    void prewarmCountMustBeAWholeNumber() {
        api.fake.deploy("counted");
        Answer a = api.post("/functions/counted/prewarm?count=two", "");
        assertEquals(400, a.status());
        assertEquals("bad_request", a.errorCode());
        assertTrue(a.body().contains("count must be a whole number, got two"), a.body());
    }

    @Test
    void cacheDropNamesTheFilesDropped() {
        api.fake.deploy("cached");
        Answer a = api.post("/functions/cached/cache/drop", "");
        assertEquals(200, a.status(), a.toString());
        Set<String> names = new HashSet<>();
        a.json().path("dropped").forEach(f -> names.add(Path.of(f.asText()).getFileName().toString()));
        assertTrue(names.containsAll(Set.of("vmstate", "memory", "rootfs.ext4")), names.toString());
    }

    @Test
    void tracesAsJaegerOrZipkin() {
        api.fake.deploy("traced");
        String traceId = api.post("/functions/traced/invoke", "{}").json().path("trace_id").asText();

        Answer all = api.get("/traces?function=traced&since=10m&limit=5");
        assertEquals(200, all.status(), all.toString());
        assertTrue(all.json().path("data").isArray(), all.body());
        assertTrue(all.body().contains(traceId), all.body());

        Answer one = api.get("/traces/" + traceId);
        assertEquals(200, one.status());
        assertEquals(traceId, one.json().path("data").path(0).path("traceID").asText());

        Answer zipkin = api.get("/traces/" + traceId + "?format=zipkin");
        assertEquals(200, zipkin.status());
        assertTrue(zipkin.json().isArray(), zipkin.body());
        assertEquals(traceId, zipkin.json().path(0).path("traceId").asText());

        assertEquals(404, api.get("/traces/0123456789abcdef0123456789abcdef").status());
        for (String bad : new String[]{"?format=xml", "?limit=0", "?since=yesterday"}) {
            Answer a = api.get("/traces" + bad);
            assertEquals(400, a.status(), bad);
            assertEquals("bad_request", a.errorCode());
        }
        assertEquals(400, api.get("/traces/" + traceId + "?format=xml").status());
    }

    @Test
    void sinceTakesMicrosInstantsAndAges() {
        assertEquals(0, TracesService.sinceMicros(null));
        assertEquals(1_700_000_000_000_000L, TracesService.sinceMicros("1700000000000000"));
        assertEquals(1_700_000_000_000_001L, TracesService.sinceMicros("2023-11-14T22:13:20.000001Z"));
        long tenMinutesAgo = (System.currentTimeMillis() / 1000 - 600) * 1_000_000;
        assertTrue(Math.abs(TracesService.sinceMicros("10m") - tenMinutesAgo) <= 2_000_000);
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) if (n.path(field).asText().equals(value)) return n;
        throw new AssertionError("no element with " + field + "=" + value + " in " + array);
    }
}
