package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import dev.thaw.scale.FixedKeepAlive;
import dev.thaw.scale.HistogramKeepAlive;
import dev.thaw.vm.FakeLauncher;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dispatch, the autoscaler and the keep-alive policies on the fake guest, with the manual clock. */
class ScalingTest {
    static final Limits LIMITS = new Limits(16, 8192, 8, 16, Duration.ofSeconds(5));

    static Scaling scaling(Duration maxQueueWait, dev.thaw.scale.KeepAlivePolicy keepAlive) {
        return new Scaling(0.8, 1, maxQueueWait, Duration.ofMillis(500), keepAlive, null);
    }

    static JsonNode gate(String name) {
        return Json.parse("{\"gate\": \"" + name + "\"}");
    }

    @Test
    void aCallWaitsForABusyInstanceWhenThatIsFasterThanARestore() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(null, new FixedKeepAlive(Duration.ofSeconds(60))))) {
            fake.deploy("a");
            assertEquals("restored", fake.platform.invoke("a", Json.object(), Mode.WARM).dispatch());
            assertEquals("idle", fake.platform.invoke("a", Json.object(), Mode.WARM).dispatch());
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            Future<InvocationResult> first = threads.submit(() -> fake.platform.invoke("a", gate("g"), Mode.WARM));
            fake.launcher.awaitAtGate(1);
            // the one instance is busy; its calls took 5 ms, a restore is expected to take 500: wait
            Future<InvocationResult> second = threads.submit(() -> fake.platform.invoke("a", Json.object(), Mode.WARM));
            // the gate opens only once the second call has decided to wait (else it may find the instance idle)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fake.platform.dispatch().waiting("a") == 0) {
                assertTrue(System.nanoTime() < deadline, "the second call never queued");
                Thread.onSpinWait();
            }
            int restores = fake.launcher.restores();
            fake.launcher.gate("g").countDown();
            assertEquals("idle", first.get(10, TimeUnit.SECONDS).dispatch());
            InvocationResult r = second.get(10, TimeUnit.SECONDS);
            assertEquals("queued", r.dispatch());
            assertEquals(null, r.coldStart());
            assertEquals(restores, fake.launcher.restores(), "no restore for the queued call");
            assertTrue(fake.platform.metrics().render().contains("thaw_dispatch_total{decision=\"queued\",function=\"a\"} 1.0"));
        }
    }

    @Test
    void slowCallsMakeARestoreTheFasterWay() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(null, new FixedKeepAlive(Duration.ofSeconds(60))))) {
            fake.deploy("a");
            fake.launcher.steps(new FakeLauncher.Steps(100, 20, 1, 3000, 200, 2000)); // calls take 2 s of the test clock
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            Future<InvocationResult> busy = threads.submit(() -> fake.platform.invoke("a", gate("g"), Mode.WARM));
            fake.launcher.awaitAtGate(1);
            InvocationResult r = fake.platform.invoke("a", Json.object(), Mode.WARM);
            assertEquals("restored", r.dispatch(), "waiting ~2 s for the busy one is slower than a restore");
            fake.launcher.gate("g").countDown();
            busy.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFunctionsFirstInstanceDoesNotWaitForARestoreSlotAnotherFunctionHolds() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(null, new FixedKeepAlive(Duration.ofSeconds(60))))) {
            fake.deploy("a");
            assertTrue(fake.platform.dispatch().tryRestoreSlot("other"), "the one slot, now held by another function's restore");
            InvocationResult r = fake.platform.invoke("a", Json.object(), Mode.WARM);
            assertEquals("restored", r.dispatch());
            assertTrue(!fake.platform.dispatch().tryRestoreSlot("other"), "the first instance took no slot: it is still held");
            fake.platform.dispatch().restored("other", true);
        }
    }

    @Test
    void anOverloadedFunctionIsRefusedAtOnceWithRetryAfter() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4,
                new Scaling(0.8, 1, Duration.ofMillis(1), Duration.ofSeconds(10), new FixedKeepAlive(Duration.ofSeconds(60)), null))) {
            fake.deploy("a");
            fake.launcher.steps(new FakeLauncher.Steps(2000, 20, 1, 3000, 200, 5)); // restores take 2 s, calls 5 ms
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.platform.invoke("a", Json.object(), Mode.WARM); // one instance, its calls seen to take 5 ms
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            Future<InvocationResult> busy = threads.submit(() -> fake.platform.invoke("a", gate("g"), Mode.WARM));
            fake.launcher.awaitAtGate(1);
            ThawException e = assertThrows(ThawException.class, () -> fake.platform.invoke("a", Json.object(), Mode.WARM));
            assertEquals(ThawException.Kind.LIMIT, e.kind());
            assertEquals("overloaded", e.details().path("limit").asText());
            fake.launcher.gate("g").countDown();
            busy.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aStalledQueueIsRefusedBeforeTheServiceTimesNoticeIt() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4,
                new Scaling(0.8, 1, Duration.ofMillis(100), Duration.ofSeconds(10), new FixedKeepAlive(Duration.ofSeconds(60)), null))) {
            fake.deploy("a");
            fake.platform.prewarm("a", 1);
            assertEquals("idle", fake.platform.invoke("a", Json.object(), Mode.WARM).dispatch()); // calls take 5 ms
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            Future<InvocationResult> busy = threads.submit(() -> fake.platform.invoke("a", gate("g"), Mode.WARM));
            fake.launcher.awaitAtGate(1);
            Future<InvocationResult> queued = threads.submit(() -> fake.platform.invoke("a", Json.object(), Mode.WARM));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fake.platform.dispatch().waiting("a") == 0) {
                assertTrue(System.nanoTime() < deadline, "the second call never queued");
                Thread.onSpinWait();
            }
            // the busy call stalls: 150 ms pass and no call ends, so the service times still say 5 ms
            // (one ahead: an expected 10 ms), but the queued call has waited 150 ms already
            fake.ticker.advance(Duration.ofMillis(150));
            ThawException e = assertThrows(ThawException.class, () -> fake.platform.invoke("a", Json.object(), Mode.WARM));
            assertEquals("overloaded", e.details().path("limit").asText());
            assertTrue(e.getMessage().contains("the oldest waiting for 150 ms"), e.getMessage());
            fake.launcher.gate("g").countDown();
            busy.get(10, TimeUnit.SECONDS);
            assertEquals("queued", queued.get(10, TimeUnit.SECONDS).dispatch());
            // the queue drained: calls are accepted again
            assertEquals("idle", fake.platform.invoke("a", Json.object(), Mode.WARM).dispatch());
        }
    }

    @Test
    void theAutoscalerRestoresAheadOfARisingConcurrencyOneSlotAtATime() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 8,
                new Scaling(0.5, 1, null, null, new FixedKeepAlive(Duration.ofSeconds(60)), null))) {
            fake.deploy("a");
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            // three warm calls held in flight on three prewarmed instances: concurrency 3 against a
            // target of 0.5 wants 6 instances (calls naming a restore mode do not count: they are measurements)
            fake.platform.prewarm("a", 3);
            var calls = new java.util.ArrayList<Future<InvocationResult>>();
            for (int i = 0; i < 3; i++) calls.add(threads.submit(() -> fake.platform.invoke("a", gate("h"), Mode.WARM)));
            fake.launcher.awaitAtGate(3);
            assertEquals(3, fake.launcher.running());
            fake.advanceAndKeep(Duration.ofSeconds(1));
            assertEquals(6, fake.platform.stats().path("functions").path("a").path("desired_instances").asInt());
            assertEquals(6, fake.launcher.running(), "restored ahead, one after another (one slot), up to the count");
            assertEquals(3, fake.platform.stats().path("functions").path("a").path("idle").asInt(), "parked for the calls to come");
            fake.launcher.gate("h").countDown();
            for (var c : calls) c.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anInstanceStoppedByHandIsNotRestoredBehindTheOperatorsBack() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 8,
                new Scaling(0.5, 1, null, null, new FixedKeepAlive(Duration.ofSeconds(60)), null))) {
            fake.deploy("a");
            String id = fake.platform.invoke("a", Json.object(), Mode.WARM).instance();
            fake.platform.stopInstance(id);
            fake.advanceAndKeep(Duration.ofSeconds(1)); // the function is still active: the autoscaler would want one
            assertEquals(0, fake.launcher.running());
            fake.platform.invoke("a", Json.object(), Mode.WARM); // a new call ends the quiet
            fake.platform.stopInstance(fake.platform.instances().getFirst().id());
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.advanceAndKeep(Duration.ofSeconds(1));
            assertEquals(1, fake.launcher.running());
        }
    }

    @Test
    void callsThatNameARestoreModeDoNotDriveTheAutoscaler() throws Exception {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 8,
                new Scaling(0.5, 1, null, null, new FixedKeepAlive(Duration.ofSeconds(60)), null))) {
            fake.deploy("a");
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            var calls = new java.util.ArrayList<Future<InvocationResult>>();
            for (int i = 0; i < 3; i++) calls.add(threads.submit(() -> fake.platform.invoke("a", gate("h"), Mode.VANILLA)));
            fake.launcher.awaitAtGate(3);
            fake.advanceAndKeep(Duration.ofSeconds(1));
            assertEquals(3, fake.launcher.running(), "a benchmark's restores are not joined by the autoscaler's");
            fake.launcher.gate("h").countDown();
            for (var c : calls) c.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theHistogramPolicyStopsInstancesBetweenRegularCallsAndPrewarmsOneBeforeTheNext() {
        var histogram = new HistogramKeepAlive(HistogramKeepAlive.Settings.PAPER.withBin(Duration.ofSeconds(10)), Duration.ofMinutes(10));
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofMinutes(10), 4, scaling(null, histogram))) {
            fake.deploy("a");
            // a call every ~95 s: idle times in bin 9 (90-100 s)
            for (int i = 0; i < 12; i++) {
                fake.platform.invoke("a", Json.object(), Mode.WARM);
                for (int s = 0; s < 90; s += 10) fake.advanceAndKeep(Duration.ofSeconds(10));
                fake.advanceAndKeep(Duration.ofSeconds(5)); // 95 s between a call's end and the next
            }
            var w = histogram.windows("a");
            assertEquals("histogram", w.basis());
            assertEquals(Duration.ofSeconds(81), w.prewarm(), "bin 9 starts at 90 s, less 10%");
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.advanceAndKeep(Duration.ofSeconds(10));
            assertEquals(0, fake.launcher.running(), "inside the pre-warm window nothing is kept");
            fake.advanceAndKeep(Duration.ofSeconds(75)); // 85 s idle: past the pre-warm window
            assertEquals(1, fake.launcher.running(), "one instance pre-warmed for the call due at 100 s");
            InvocationResult r = fake.platform.invoke("a", Json.object(), Mode.WARM);
            assertEquals("idle", r.dispatch(), "the call found the pre-warmed instance");
            assertTrue(fake.platform.stats().path("functions").path("a").path("idle_mib_s").asDouble() > 0);
        }
    }

    @Test
    void idleMemoryTimeIsIdleSecondsTimesGuestMemory() {
        try (FakePlatform fake = new FakePlatform(LIMITS, Duration.ofSeconds(60), 4, scaling(null, new FixedKeepAlive(Duration.ofSeconds(60))))) {
            fake.deploy("a"); // 256 MiB
            fake.platform.invoke("a", Json.object(), Mode.WARM);
            fake.advanceAndKeep(Duration.ofSeconds(30));
            JsonNode a = fake.platform.stats().path("functions").path("a");
            assertEquals(30, a.path("idle_instance_s").asDouble(), 0.01);
            assertEquals(30 * 256, a.path("idle_mib_s").asDouble(), 1);
            fake.advanceAndKeep(Duration.ofSeconds(40)); // stopped at 60 s of idleness (the keeper runs every 10 s here)
            a = fake.platform.stats().path("functions").path("a");
            assertEquals(70, a.path("idle_instance_s").asDouble(), 0.01, "counted until the keeper stopped it");
            assertEquals(1, a.path("restores").asLong());
        }
    }
}
