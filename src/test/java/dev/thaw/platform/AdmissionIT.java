package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ApiServer;
import dev.thaw.client.DaemonClient;
import dev.thaw.client.DaemonException;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Instances under load, with small limits so a 2-core machine can be overloaded quickly:
 * 3 instances, 768 MiB of guest memory, 2 concurrent invocations per function, 4 queued, 3 s queue timeout.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdmissionIT {
    static final Limits LIMITS = new Limits(3, 768, 2, 4, Duration.ofSeconds(3));
    VmFixture vms;
    ApiServer api;
    DaemonClient client;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws Exception {
        vms = new VmFixture(LIMITS);
        api = new ApiServer(vms.platform, new InetSocketAddress("127.0.0.1", 0), 1 << 20).start();
        client = new DaemonClient(api.url());
        client.deploy("probe", VmFixture.exampleFunction("probe"));
    }

    @AfterAll
    void stop() {
        if (api != null) api.close();
        if (vms != null) vms.close();
    }

    @Test
    void asyncInvocationIsAcceptedThenAnswered() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/functions/probe/invoke?async=true"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"tag\":\"later\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, r.statusCode(), r.body());
        String id = Json.parse(r.body()).path("invocation_id").asText();
        JsonNode status = null;
        for (int i = 0; i < 600; i++) {
            status = client.get("/invocations/" + id);
            if (status.path("state").asText().equals("succeeded") || status.path("state").asText().equals("failed")) break;
            Thread.sleep(100);
        }
        assertEquals("succeeded", status.path("state").asText(), status.toString());
        assertEquals("later", status.path("response").path("result").path("echo").path("tag").asText());
        var e = assertThrows(DaemonException.class, () -> client.get("/invocations/inv-unknown"));
        assertEquals(404, e.status());
    }

    @Test
    void prewarmedInstancesServeWarmCallsWithoutAColdStart() {
        JsonNode r = client.post("/functions/probe/prewarm?count=2");
        assertEquals(2, r.path("instances").size(), r.toString());
        JsonNode call = client.invoke("probe", "warm", Json.parse("{\"x\":1}"));
        assertTrue(call.path("cold_start").isMissingNode(), call.toString());
    }

    /**
     * Offers about five times what the limits let the host serve (2 slots × 1 s handlers = 2/s;
     * we offer 10/s for 6 s): the excess gets 429 with Retry-After and the limit's name, the
     * instance and memory budgets hold throughout, and normal service resumes within 10 s.
     */
    @Test
    void overloadIsRefusedWithinBudgetAndServiceRecovers() throws Exception {
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> limitsHit = new ConcurrentHashMap<>();
        AtomicBoolean retryAfterMissing = new AtomicBoolean();
        AtomicBoolean overBudget = new AtomicBoolean();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = Thread.ofVirtual().start(() -> {
            while (watching.get()) {
                JsonNode inst = client.get("/instances").path("instances");
                if (inst.size() > LIMITS.maxInstances() || inst.size() * 256L > LIMITS.memoryBudgetMib()) overBudget.set(true);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        List<Future<?>> calls = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 60; i++) {
                long due = t0 + i * 100_000_000L;
                Thread.sleep(Math.max(0, (due - System.nanoTime()) / 1_000_000));
                calls.add(pool.submit(() -> {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/functions/probe/invoke?mode=warm"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"sleep_s\": 1}")).build(), HttpResponse.BodyHandlers.ofString());
                    statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                    if (r.statusCode() == 429) {
                        if (r.headers().firstValue("Retry-After").isEmpty()) retryAfterMissing.set(true);
                        limitsHit.computeIfAbsent(Json.parse(r.body()).path("error").path("limit").asText(), k -> new AtomicInteger()).incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : calls) f.get();
        } finally {
            watching.set(false);
            watcher.join();
        }
        System.err.println("overload statuses " + statuses + ", limits hit " + limitsHit);
        assertEquals(60, statuses.values().stream().mapToInt(AtomicInteger::get).sum(), "every call answered");
        assertTrue(statuses.getOrDefault(200, new AtomicInteger()).get() >= 5, "some were served: " + statuses);
        assertTrue(statuses.getOrDefault(429, new AtomicInteger()).get() >= 20, "the excess was refused: " + statuses);
        assertEquals(statuses.get(200).get() + statuses.get(429).get(), 60, "nothing but 200 and 429: " + statuses);
        assertFalse(retryAfterMissing.get(), "every 429 carries Retry-After");
        assertFalse(overBudget.get(), "instance and memory budgets held");

        long t0 = System.nanoTime();
        JsonNode ok = null;
        while (ok == null && System.nanoTime() - t0 < 10_000_000_000L) {
            try {
                ok = client.invoke("probe", "warm", Json.parse("{\"after\":true}"));
            } catch (DaemonException e) {
                Thread.sleep(200);
            }
        }
        assertNotNull(ok, "served normally within 10 s after the overload");
        System.err.printf("recovered %.1f s after the overload%n", (System.nanoTime() - t0) / 1e9);
    }
}
