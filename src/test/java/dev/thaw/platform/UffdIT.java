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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest memory served by thaw's page server over userfaultfd, with real QEMU: restores answer
 * correctly in every userfaultfd mode, and a page server that dies mid-restore fails that one
 * invocation with 502 and leaves no QEMU behind.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UffdIT {
    VmFixture vms;
    ApiServer api;
    DaemonClient client;

    @BeforeAll
    void start() throws IOException {
        vms = new VmFixture();
        api = new ApiServer(vms.platform, new InetSocketAddress("127.0.0.1", 0), 64 * 1024).start();
        client = new DaemonClient(api.url());
        client.deploy("hello", VmFixture.exampleFunction("hello"));
        client.deploy("json", VmFixture.exampleFunction("json"));
    }

    @AfterAll
    void stop() {
        System.clearProperty(UffdStrategy.DIE_AFTER_PROPERTY);
        if (api != null) api.close();
        if (vms != null) vms.close();
    }

    @Test
    void restoresThroughThePageServerAnswerCorrectly() {
        for (String mode : userfaultfdModes()) {
            client.post("/functions/hello/cache/drop");
            JsonNode r = client.invoke("hello", mode, Json.parse("{\"name\":\"" + mode + "\"}"));
            assertEquals("hello, " + mode, r.path("result").path("greeting").asText(), r.toString());
            assertEquals(mode, r.path("cold_start").asText(), r.toString());
            JsonNode uffd = r.path("memory").path("uffd");
            assertTrue(uffd.path("faults").asLong() + uffd.path("installed_pages").asLong() > 300, r.toString());
            assertTrue(uffd.path("service_p99_us").asDouble() >= uffd.path("service_p50_us").asDouble(), r.toString());

            JsonNode warm = client.invoke("hello", "warm", Json.parse("{\"name\":\"again\"}"));
            assertEquals("hello, again", warm.path("result").path("greeting").asText(), warm.toString());
            // The instance's memory is in by now: a warm call faults on a few pages its own input
            // touches (thaw mode installed nearly everything, so its restore may fault less than this).
            assertTrue(warm.path("memory").path("uffd").path("faults").asLong() < 300, warm.toString());
            client.delete("/instances/" + warm.path("instance").asText());
        }
        JsonNode event = Json.parse("{\"size\": 3000, \"seed\": 2}");
        String want = client.invoke("json", "vanilla", event).path("result").path("sha256").asText();
        for (String mode : userfaultfdModes()) {
            JsonNode json = client.invoke("json", mode, event);
            assertEquals(want, json.path("result").path("sha256").asText(), mode + ": " + json);
        }
    }

    private static List<String> userfaultfdModes() {
        return List.of("uffd", "reap", "thaw");
    }

    @Test
    void theUserfaultfdRecordIsExactAndNoLargerThanThePagemapOne() {
        for (JsonNode s : client.get("/snapshots").path("snapshots")) {
            JsonNode ws = s.path("working_set");
            assertEquals("uffd", ws.path("method").asText(), s.toString());
            long uffd = ws.path("pages_by_method").path("uffd").asLong(), pagemap = ws.path("pages_by_method").path("pagemap").asLong();
            assertTrue(uffd > 100 && uffd <= pagemap, s.toString());
            assertEquals(uffd, ws.path("pages").asLong(), s.toString());
        }
    }

    @Test
    void aPageServerThatDiesMidRestoreFailsThatInvocationAndLeavesNoQemu() {
        System.setProperty(UffdStrategy.DIE_AFTER_PROPERTY, "200");
        try {
            DaemonException e = assertThrows(DaemonException.class,
                    () -> client.invoke("hello", "uffd", Json.parse("{\"name\":\"x\"}")));
            assertEquals(502, e.status(), e.getMessage());
            assertEquals("vm_failed", e.code(), e.getMessage());
        } finally {
            System.clearProperty(UffdStrategy.DIE_AFTER_PROPERTY);
        }
        assertEquals(0, vms.platform.instances().stream().filter(i -> i.function().equals("hello")).count(),
                "no instance kept");
        String run = vms.runDir.toString();
        long qemus = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("qemu-system") && c.contains(run)).orElse(false))
                .filter(ProcessHandle::isAlive)
                .count();
        assertEquals(0, qemus, "no QEMU left running");
        JsonNode ok = client.invoke("hello", "uffd", Json.parse("{\"name\":\"after\"}"));
        assertEquals("hello, after", ok.path("result").path("greeting").asText());
    }
}
