package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ApiServer;
import dev.thaw.client.DaemonClient;
import dev.thaw.client.DaemonException;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pre-started VMMs with real QEMU (issue 11): a {@code thaw} restore takes a pooled QEMU, binds
 * it to hello's snapshot, answers correctly and reports {@code vmm_bind} instead of
 * {@code vmm_start}; the pool refills with a new QEMU; and a page server that dies while a pooled
 * VMM is being restored fails that call with 502 and kills that QEMU.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoolIT {
    VmFixture vms;
    ApiServer api;
    DaemonClient client;

    @BeforeAll
    void start() throws IOException {
        vms = new VmFixture();
        api = new ApiServer(vms.platform, new InetSocketAddress("127.0.0.1", 0), 64 * 1024).start();
        client = new DaemonClient(api.url());
        client.deploy("hello", VmFixture.exampleFunction("hello"));
        vms.platform.vmmPool(1);
    }

    @AfterAll
    void stop() {
        System.clearProperty(UffdStrategy.DIE_AFTER_PROPERTY);
        if (api != null) api.close();
        if (vms != null) vms.close();
    }

    @Test
    @Order(1)
    void aThawRestoreBindsAPooledVmmAndReportsVmmBind() {
        List<Long> pooled = awaitPooled();
        JsonNode r = client.invoke("hello", "thaw", Json.parse("{\"name\":\"pool\"}"));
        assertEquals("hello, pool", r.path("result").path("greeting").asText(), r.toString());
        JsonNode t = r.path("timing_ms");
        assertTrue(t.has("vmm_bind"), r.toString());
        assertFalse(t.has("vmm_start"), r.toString());
        String instance = r.path("instance").asText();
        long pid = vms.platform.instances().stream().filter(i -> i.id().equals(instance)).findFirst().orElseThrow().pid();
        assertTrue(pooled.contains(pid), "the instance runs in the QEMU that waited in the pool");
        JsonNode stats = client.get("/stats").path("vmm_pool");
        assertEquals(1, stats.path("hits").asLong(), stats.toString());

        List<Long> next = awaitPooled(); // refilled after the reply, with a new QEMU
        assertFalse(next.contains(pid), "a bound QEMU never goes back to the pool");
        JsonNode warm = client.invoke("hello", "warm", Json.parse("{\"name\":\"again\"}"));
        assertEquals("hello, again", warm.path("result").path("greeting").asText(), warm.toString());
        assertEquals(instance, warm.path("instance").asText(), "the bound instance serves warm calls");
        client.delete("/instances/" + instance);

        JsonNode plain = client.invoke("hello", "uffd", Json.parse("{\"name\":\"plain\"}"));
        assertTrue(plain.path("timing_ms").has("vmm_start"), "uffd mode starts its own QEMU: " + plain);
        client.delete("/instances/" + plain.path("instance").asText());
    }

    @Test
    @Order(2)
    void aPageServerThatDiesWhileAPooledVmmIsRestoredFailsThatCallAndKillsItsQemu() {
        // Read when a pooled VMM's page server starts; 0: it fails the moment it is bound (a thaw restore
        // may fault on no page at all, its install puts the working set in first).
        System.setProperty(UffdStrategy.DIE_AFTER_PROPERTY, "0");
        List<Long> doomed;
        try {
            vms.platform.vmmPool(0); // replace the waiting VMM by one whose page server dies at its bind
            vms.platform.vmmPool(1);
            vms.platform.maintainPool();
            doomed = awaitPooled();
        } finally {
            System.clearProperty(UffdStrategy.DIE_AFTER_PROPERTY);
        }
        java.util.Set<String> before = ids();
        DaemonException e = assertThrows(DaemonException.class, () -> client.invoke("hello", "thaw", Json.parse("{\"name\":\"x\"}")));
        assertEquals(502, e.status(), e.getMessage());
        assertEquals("vm_failed", e.code(), e.getMessage());
        java.util.Set<String> after = ids();
        after.removeAll(before);
        assertEquals(java.util.Set.of(), after, "no instance kept");
        for (long pid : doomed) {
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the pooled QEMU " + pid + " is gone");
        }
        List<Long> fresh = awaitPooled();
        assertNotEquals(doomed, fresh);
        JsonNode ok = client.invoke("hello", "thaw", Json.parse("{\"name\":\"after\"}"));
        assertEquals("hello, after", ok.path("result").path("greeting").asText(), ok.toString());
    }

    private java.util.Set<String> ids() {
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (Instance.Info i : vms.platform.instances()) ids.add(i.id());
        return ids;
    }

    /** The pids of the QEMUs waiting in the pool, once one waits (within 30 s). */
    private List<Long> awaitPooled() {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<Long> pids = vms.platform.pool().waitingPids();
            if (!pids.isEmpty()) return pids;
            LockSupport.parkNanos(50_000_000L);
        }
        throw new AssertionError("no VMM waited in the pool within 30 s: " + vms.platform.pool().stats());
    }
}
