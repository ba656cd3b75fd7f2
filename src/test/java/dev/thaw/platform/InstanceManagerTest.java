package dev.thaw.platform;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one owner of running guests and their budget, on fake guests. */
class InstanceManagerTest {
    static ObjectNode empty() {
        return Json.object();
    }

    @Test
    void theMemoryBudgetEvictsTheLongestIdleInstanceFirst() {
        // 512 MiB: two 256 MiB instances fit, a third needs an eviction.
        try (FakePlatform fake = new FakePlatform(new Limits(8, 512, 2, 4, Duration.ofSeconds(5)))) {
            fake.deploy("a");
            fake.deploy("b");
            fake.deploy("c");
            String a = fake.platform.invoke("a", empty(), Mode.WARM).instance();
            fake.ticker.advance(Duration.ofSeconds(1));
            String b = fake.platform.invoke("b", empty(), Mode.WARM).instance();
            String c = fake.platform.invoke("c", empty(), Mode.WARM).instance();
            List<String> running = fake.platform.instances().stream().map(Instance.Info::id).toList();
            assertEquals(List.of(b, c).stream().sorted().toList(), running, "a, idle longest, made room for c");
            assertTrue(!running.contains(a));
            assertArrayEquals(new long[]{2, 512}, fake.platform.instanceManager().reserved());
        }
    }

    @Test
    void theInstanceLimitRefusesWhenNothingIsIdle() throws Exception {
        try (FakePlatform fake = new FakePlatform(new Limits(1, 4096, 2, 4, Duration.ofSeconds(5)))) {
            fake.deploy("a");
            var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            var busy = threads.submit(() -> fake.platform.invoke("a", Json.parse("{\"gate\": \"hold\"}"), Mode.WARM));
            fake.launcher.awaitAtGate(1);
            ThawException e = assertThrows(ThawException.class, () -> fake.platform.invoke("a", empty(), Mode.VANILLA));
            assertEquals(ThawException.Kind.LIMIT, e.kind());
            assertEquals("instances", e.details().path("limit").asText());
            assertEquals(2, e.details().path("retry_after_s").asInt());
            fake.launcher.gate("hold").countDown();
            busy.get();
            assertTrue(fake.platform.metrics().render().contains("thaw_rejections_total{reason=\"instances\"} 1"));
        }
    }

    @Test
    void deployAndRecordVmsCountAgainstTheBudget() {
        // One instance fits: a running idle instance of "a" must be evicted for the deploy of "b" to boot its VM.
        try (FakePlatform fake = new FakePlatform(new Limits(1, 4096, 2, 4, Duration.ofSeconds(5)))) {
            fake.deploy("a");
            String a = fake.platform.invoke("a", empty(), Mode.WARM).instance();
            assertEquals(1, fake.platform.instances().size());
            fake.deploy("b");
            assertTrue(fake.platform.instances().isEmpty(), "the deploy's VM took the only slot from idle " + a);
            assertArrayEquals(new long[]{0, 0}, fake.platform.instanceManager().reserved(), "the deploy gave its slot back");
        }
    }

    @Test
    void aDeployBlockedByBusyInstancesIsRefusedWithTheLimit() throws Exception {
        try (FakePlatform fake = new FakePlatform(new Limits(1, 4096, 2, 4, Duration.ofSeconds(5)))) {
            fake.deploy("a");
            var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            var busy = threads.submit(() -> fake.platform.invoke("a", Json.parse("{\"gate\": \"hold\"}"), Mode.WARM));
            fake.launcher.awaitAtGate(1);
            ThawException e = assertThrows(ThawException.class, () -> fake.deploy("b"));
            assertEquals(ThawException.Kind.LIMIT, e.kind());
            fake.launcher.gate("hold").countDown();
            busy.get();
        }
    }

    @Test
    void releaseKeepsAtMostMaxIdlePerFunction() throws Exception {
        try (FakePlatform fake = new FakePlatform(new Limits(8, 8192, 4, 4, Duration.ofSeconds(5)), Duration.ofSeconds(60), 1)) {
            fake.deploy("a");
            var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            var x = threads.submit(() -> fake.platform.invoke("a", Json.parse("{\"gate\": \"g\"}"), Mode.VANILLA));
            var y = threads.submit(() -> fake.platform.invoke("a", Json.parse("{\"gate\": \"g\"}"), Mode.VANILLA));
            fake.launcher.awaitAtGate(2);
            fake.launcher.gate("g").countDown();
            assertNotEquals(x.get().instance(), y.get().instance());
            assertEquals(1, fake.platform.instances().size(), "--max-idle 1: the second instance was stopped");
            assertEquals(1, fake.launcher.running());
        }
    }

    @Test
    void stopAndUndeployStopInstancesAndGiveTheBudgetBack() {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            String id = fake.platform.invoke("a", empty(), Mode.WARM).instance();
            fake.platform.stopInstance(id);
            assertTrue(fake.platform.instances().isEmpty());
            assertEquals(ThawException.Kind.NOT_FOUND, assertThrows(ThawException.class, () -> fake.platform.stopInstance(id)).kind());
            fake.platform.invoke("a", empty(), Mode.WARM);
            fake.platform.undeploy("a");
            assertTrue(fake.platform.instances().isEmpty());
            assertArrayEquals(new long[]{0, 0}, fake.platform.instanceManager().reserved());
            assertEquals(0, fake.launcher.running());
        }
    }

    @Test
    void redeployStopsInstancesOfThePreviousCode() {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("a");
            fake.platform.invoke("a", empty(), Mode.WARM);
            fake.deploy("a");
            assertTrue(fake.platform.instances().isEmpty());
            assertEquals("vanilla", fake.platform.invoke("a", empty(), Mode.WARM).coldStart());
        }
    }

    @Test
    void closingThePlatformStopsEveryGuest() {
        FakePlatform fake = new FakePlatform();
        fake.deploy("a");
        fake.platform.invoke("a", empty(), Mode.WARM);
        fake.platform.prewarm("a", 2);
        assertEquals(3, fake.launcher.running());
        fake.close();
        assertEquals(0, fake.launcher.running());
    }
}
