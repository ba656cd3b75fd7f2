package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ApiServer;
import dev.thaw.client.DaemonClient;
import dev.thaw.common.Json;
import dev.thaw.memory.PageRun;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FaaSnap's per-region mapping with real (jailed) QEMU: a {@code faasnap} restore answers
 * correctly, and the VMM's /proc/PID/maps shows every listed zero region as an anonymous mapping
 * inside the private mapping of the snapshot's memory file; json's checksum equals vanilla's in
 * both faasnap variants.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegionsIT {
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
        if (api != null) api.close();
        if (vms != null) vms.close();
    }

    @Test
    void faasnapMapsTheZeroRegionsAnonymousOverTheMemoryFile() throws IOException {
        client.post("/functions/hello/cache/drop");
        JsonNode r = client.invoke("hello", "faasnap", Json.parse("{\"name\":\"regions\"}"));
        assertEquals("hello, regions", r.path("result").path("greeting").asText(), r.toString());
        assertEquals("faasnap", r.path("cold_start").asText(), r.toString());

        long pid = -1;
        for (JsonNode i : client.get("/instances").path("instances")) {
            if (i.path("id").asText().equals(r.path("instance").asText())) pid = i.path("pid").asLong();
        }
        assertTrue(pid > 0, "the instance's QEMU pid");
        Path memory = vms.dataDir.resolve("functions/hello/snapshot/memory.sparse").toRealPath(); // what faasnap maps
        List<String> maps = Files.readAllLines(Path.of("/proc/" + pid + "/maps"));
        List<PageRun> regions = regionList();
        assertTrue(regions.size() > 10, "hello's snapshot has zero regions: " + regions.size());

        // The file mapping's pieces give its base (start - file offset); each region must lie in an anonymous piece.
        long base = -1;
        int filePieces = 0;
        for (String line : maps) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[5].equals(memory.toString())) {
                filePieces++;
                base = Long.parseUnsignedLong(f[0].split("-")[0], 16) - Long.parseUnsignedLong(f[2], 16);
            }
        }
        assertTrue(filePieces > regions.size() / 2, "the memory file's mapping is split by the regions: " + filePieces + " pieces");
        for (PageRun region : regions) {
            long from = base + region.offset(), to = from + region.length();
            assertTrue(maps.stream().anyMatch(line -> anonymousCovers(line, from, to)),
                    "zero region " + region + " is not an anonymous mapping in QEMU's maps");
        }
        client.delete("/instances/" + r.path("instance").asText());

        client.post("/functions/hello/cache/drop");
        JsonNode sparse = client.invoke("hello", "faasnap-sparse", Json.parse("{\"name\":\"sparse\"}"));
        assertEquals("hello, sparse", sparse.path("result").path("greeting").asText(), sparse.toString());
    }

    @Test
    void faasnapComputesWhatVanillaComputes() {
        JsonNode event = Json.parse("{\"size\": 3000, \"seed\": 2}");
        String want = client.invoke("json", "vanilla", event).path("result").path("sha256").asText();
        for (String mode : List.of("faasnap", "faasnap-sparse")) {
            client.post("/functions/json/cache/drop");
            JsonNode r = client.invoke("json", mode, event);
            assertEquals(mode, r.path("cold_start").asText(), r.toString());
            assertEquals(want, r.path("result").path("sha256").asText(), mode + ": " + r);
        }
    }

    private static boolean anonymousCovers(String line, long from, long to) {
        String[] f = line.trim().split("\\s+");
        String[] range = f[0].split("-");
        return f[4].equals("0") && f.length == 5
                && Long.parseUnsignedLong(range[0], 16) <= from && Long.parseUnsignedLong(range[1], 16) >= to;
    }

    /** The region list hello's restore wrote under the run directory (one per snapshot). */
    private List<PageRun> regionList() throws IOException {
        List<PageRun> out = new ArrayList<>();
        String id = Json.parse(Files.readString(vms.dataDir.resolve("functions/hello/snapshot/manifest.json"))).path("snapshotId").asText();
        try (var files = Files.list(vms.runDir.resolve("regions"))) {
            List<Path> lists = files.filter(p -> p.getFileName().toString().startsWith(id + "-")).toList();
            assertEquals(1, lists.size(), lists.toString());
            for (String line : Files.readAllLines(lists.getFirst())) {
                String[] f = line.split(" ");
                if (f.length == 2 && !f[0].equals("pages") && !f[0].equals("thaw-regions")) {
                    out.add(new PageRun(Long.parseLong(f[0]), Long.parseLong(f[1])));
                }
            }
        }
        return out;
    }
}
