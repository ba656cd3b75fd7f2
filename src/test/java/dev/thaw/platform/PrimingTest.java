package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import dev.thaw.scale.FixedKeepAlive;
import dev.thaw.vm.FakeGuest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Priming of instances restored ahead of demand, on the fake guest with the manual clock. */
class PrimingTest {
    static final Limits LIMITS = new Limits(16, 8192, 8, 16, Duration.ofSeconds(5));
    static final String WITH_RECORD = "{\"name\": \"a\", \"memory_mib\": 256, \"record\": false,"
            + " \"inputs\": {\"record\": {\"name\": \"rec\"}, \"test\": {\"name\": \"test\"}}}";

    static Scaling scaling(boolean prime) {
        return new Scaling(0.5, 1, null, Duration.ofMillis(500), new FixedKeepAlive(Duration.ofSeconds(60)), null, prime);
    }

    /** The guests restored for invocations and prewarms (not the deploy's boot VM). */
    static List<FakeGuest> restored(FakePlatform fake) {
        return fake.launcher.launched().stream().filter(g -> g.id().startsWith("i-")).toList();
    }

    static JsonNode stats(FakePlatform fake) {
        return fake.platform.stats().path("functions").path("a");
    }

    @Test
    void aPrewarmedInstanceIsPrimedOnceWithTheSeedAndItsFirstCallCarriesNone() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(true))) {
            fake.deploy("a", WITH_RECORD);
            List<String> ids = fake.platform.prewarm("a", 1);
            FakeGuest g = restored(fake).getFirst();
            assertEquals(ids.getFirst(), g.id());
            List<ObjectNode> primed = g.invokes();
            assertEquals(1, primed.size(), "exactly one priming invoke before the instance is offered");
            assertTrue(primed.getFirst().hasNonNull("seed"), "the priming invoke reseeds the clone");
            assertEquals("rec", primed.getFirst().path("event").path("name").asText(), "primed with the record input");

            InvocationResult r = fake.platform.invoke("a", Json.parse("{\"name\": \"real\"}"), Mode.WARM);
            assertEquals("idle", r.dispatch());
            assertEquals(g.id(), r.instance());
            List<ObjectNode> all = g.invokes();
            assertEquals(2, all.size());
            assertFalse(all.get(1).has("seed"), "reseeded once per restore: by the priming, not again by the first call");
            assertEquals("real", all.get(1).path("event").path("name").asText());

            String metrics = fake.platform.metrics().render();
            assertTrue(metrics.contains("thaw_invocations_total{function=\"a\",mode=\"warm\",status=\"ok\"} 1.0"),
                    "the priming is not an invocation: " + metrics);
            assertTrue(metrics.contains("thaw_prime_duration_seconds_count{function=\"a\"} 1"), metrics);
            assertEquals(1, fake.platform.tracing().store().query("a", 0, 100).size(), "no trace for the priming");
            JsonNode s = stats(fake);
            assertEquals(1, s.path("primes").asLong());
            assertEquals(5.0, s.path("prime_ms").asDouble(), 1e-9, "the fake's handler takes 5 ms of the test clock");
            assertEquals(5.0, s.path("prime_exec_ms").asDouble(), 1e-9);
            assertEquals(1, s.path("dispatch").path("idle").asLong(), "one call dispatched, the priming is none");
        }
    }

    @Test
    void aWarmMissRestoreIsNotPrimed() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(true))) {
            fake.deploy("a", WITH_RECORD);
            InvocationResult r = fake.platform.invoke("a", Json.parse("{\"name\": \"real\"}"), Mode.WARM);
            assertEquals("restored", r.dispatch());
            List<ObjectNode> invokes = restored(fake).getFirst().invokes();
            assertEquals(1, invokes.size(), "the caller's call goes first: no priming");
            assertTrue(invokes.getFirst().hasNonNull("seed"), "so the caller's call carries the seed");
            assertEquals("real", invokes.getFirst().path("event").path("name").asText());
            assertEquals(0, stats(fake).path("primes").asLong());
        }
    }

    @Test
    void aPrimingThatRaisesDiscardsTheInstanceAndIsNoCallFailure() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(true))) {
            // no record input: the deploy's warm-up sends {} and passes; priming sends the test input
            fake.deploy("a", "{\"name\": \"a\", \"memory_mib\": 256, \"record\": false, \"inputs\": {\"test\": {\"raise\": \"boom\"}}}");
            ThawException e = assertThrows(ThawException.class, () -> fake.platform.prewarm("a", 2));
            assertEquals("prime_failed", e.code());
            assertEquals(ThawException.Kind.HANDLER, e.kind());
            assertTrue(e.getMessage().contains("test input") && e.getMessage().contains("boom"), e.getMessage());
            assertEquals(0, fake.launcher.running(), "both instances discarded, none parked");
            assertTrue(fake.platform.instances().isEmpty());
            assertEquals(0, fake.platform.instanceManager().reserved()[0], "their budget is back");
            String metrics = fake.platform.metrics().render();
            assertFalse(metrics.contains("thaw_invocation_errors_total"), "no call failed: " + metrics);
            assertFalse(metrics.contains("thaw_invocations_total"), metrics);
            assertTrue(metrics.contains("thaw_prime_failures_total{function=\"a\"} 2.0"), metrics);
            assertEquals(2, stats(fake).path("prime_failures").asLong());
            // a caller's own call still works (a warm miss, not primed, with the seed)
            InvocationResult r = fake.platform.invoke("a", Json.object(), Mode.WARM);
            assertEquals("restored", r.dispatch());
        }
    }

    @Test
    void aPrimingThatTimesOutDiscardsTheInstance() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(true))) {
            fake.deploy("a", "{\"name\": \"a\", \"memory_mib\": 256, \"record\": false, \"inputs\": {\"test\": {\"hang\": true}}}");
            ThawException e = assertThrows(ThawException.class, () -> fake.platform.prewarm("a", 1));
            assertEquals("prime_failed", e.code());
            assertEquals(ThawException.Kind.TIMEOUT, e.kind());
            assertEquals(0, fake.launcher.running());
            assertTrue(restored(fake).getFirst().closed(), "the hung VM is stopped");
            assertFalse(fake.platform.metrics().render().contains("thaw_invocation_errors_total"));
        }
    }

    @Test
    void aFunctionThatSaysPrimeFalseIsNotPrimed() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(true))) {
            fake.deploy("a", WITH_RECORD.replace("\"record\": false,", "\"record\": false, \"prime\": false,"));
            fake.platform.prewarm("a", 1);
            FakeGuest g = restored(fake).getFirst();
            assertEquals(0, g.invokes().size(), "parked without running its handler");
            InvocationResult r = fake.platform.invoke("a", Json.object(), Mode.WARM);
            assertEquals("idle", r.dispatch());
            assertTrue(g.invokes().getFirst().hasNonNull("seed"), "unprimed: the first real call reseeds");
            assertFalse(stats(fake).path("prime").asBoolean());
        }
    }

    @Test
    void primeOffPrimesNothing() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(false))) {
            fake.deploy("a", WITH_RECORD);
            fake.platform.prewarm("a", 2);
            for (FakeGuest g : restored(fake)) assertEquals(0, g.invokes().size());
            assertEquals("off", fake.platform.stats().path("prime").asText());
        }
    }

    @Test
    void minWarmsTopUpIsPrimed() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 8, scaling(true))) {
            fake.deploy("a", WITH_RECORD.replace("\"record\": false,", "\"record\": false, \"min_warm\": 1,"));
            fake.advanceAndKeep(Duration.ofSeconds(1));
            FakeGuest g = restored(fake).getFirst();
            assertEquals(1, g.invokes().size());
            assertTrue(g.invokes().getFirst().hasNonNull("seed"));
        }
    }

    @Test
    void theAutoscalersRestoresArePrimed() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 8, scaling(true))) {
            fake.deploy("a", WITH_RECORD);
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            fake.platform.prewarm("a", 2);
            var calls = new java.util.ArrayList<Future<InvocationResult>>();
            for (int i = 0; i < 2; i++) calls.add(threads.submit(() -> fake.platform.invoke("a", Json.parse("{\"gate\": \"h\"}"), Mode.WARM)));
            fake.launcher.awaitAtGate(2);
            fake.advanceAndKeep(Duration.ofSeconds(1)); // concurrency 2 against a target of 0.5: 4 instances
            List<FakeGuest> guests = restored(fake);
            assertEquals(4, guests.size());
            for (FakeGuest g : guests) {
                ObjectNode first = g.invokes().getFirst();
                assertEquals("rec", first.path("event").path("name").asText(), g.id() + " was primed first");
                assertTrue(first.hasNonNull("seed"));
                assertEquals(1, g.invokes().stream().filter(i -> i.has("seed")).count(), "one seed per restore");
            }
            assertEquals(2, guests.stream().filter(g -> g.invokes().size() == 1).count(), "the autoscaler's two are parked primed");
            assertEquals(2, stats(fake).path("idle").asInt());
            fake.launcher.gate("h").countDown();
            for (var c : calls) c.get(10, TimeUnit.SECONDS);
            assertEquals(4, stats(fake).path("primes").asLong());
        }
    }
}
