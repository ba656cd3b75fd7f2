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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The platform end to end, as a user drives it: real QEMU VMs behind the real HTTP API.
 * Deploys {@code hello} (shipped) and {@code probe} (a test function that sleeps or raises).
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PlatformIT {
    VmFixture vms;
    ApiServer api;
    DaemonClient client;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws IOException {
        vms = new VmFixture();
        startApi();
        client.deploy("hello", VmFixture.exampleFunction("hello"));
        client.deploy("probe", VmFixture.exampleFunction("probe"));
    }

    private void startApi() {
        api = new ApiServer(vms.platform, new InetSocketAddress("127.0.0.1", 0), 64 * 1024).start();
        client = new DaemonClient(api.url());
    }

    @AfterAll
    void stop() {
        if (api != null) api.close();
        if (vms != null) vms.close();
    }

    @Test
    void everyModeReturnsTheHandlersResult() {
        JsonNode vanilla = client.invoke("hello", "vanilla", Json.parse("{\"name\":\"v\"}"));
        assertEquals("hello, v", vanilla.path("result").path("greeting").asText());
        assertEquals("vanilla", vanilla.path("cold_start").asText());
        for (String phase : List.of("total", "vmm_start", "state_load", "resume", "guest_exec", "host_overhead")) {
            assertTrue(vanilla.path("timing_ms").has(phase), "timing has " + phase + ": " + vanilla);
        }
        // The guest clock is set on restore: it must be close to the host's, not the snapshot's time.
        long guestNs = vanilla.path("result").path("guest_time_ns").asLong();
        assertTrue(Math.abs(System.currentTimeMillis() - guestNs / 1_000_000) < 5_000, "guest clock is current");

        JsonNode warm = client.invoke("hello", "warm", Json.parse("{\"name\":\"w\"}"));
        assertEquals("hello, w", warm.path("result").path("greeting").asText());
        assertTrue(warm.path("cold_start").isMissingNode(), "warm call reused a running instance: " + warm);

        JsonNode cold = client.invoke("hello", "cold", Json.parse("{\"name\":\"c\"}"));
        assertEquals("hello, c", cold.path("result").path("greeting").asText());
        assertEquals("cold", cold.path("cold_start").asText());
        assertTrue(cold.path("timing_ms").has("boot"));
    }

    @Test
    void recordedStrategiesRestoreWithTheirOwnDataPath() {
        for (String mode : List.of("cached", "reap", "faasnap")) {
            client.post("/functions/hello/cache/drop");
            JsonNode r = client.invoke("hello", mode, Json.parse("{\"name\":\"" + mode + "\"}"));
            assertEquals("hello, " + mode, r.path("result").path("greeting").asText(), r.toString());
            assertEquals(mode, r.path("cold_start").asText(), r.toString());
            assertTrue(r.path("warnings").isMissingNode(), r.toString());
            JsonNode mem = r.path("memory");
            assertTrue(mem.path("working_set_pages").asLong() > 100, r.toString());
            assertTrue(mem.path("loading_set_pages").asLong() <= mem.path("working_set_pages").asLong(), r.toString());
            assertTrue(mem.has("major_faults") && mem.has("disk_read_bytes"), r.toString());
            if (!mode.equals("cached")) assertTrue(r.path("timing_ms").has("prefetch"), r.toString());
        }
    }

    @Test
    void withoutARecordReapFallsBackToVanillaWithAWarning() throws Exception {
        Path copy = Files.createTempDirectory("thaw-it-fn");
        Files.copy(VmFixture.exampleFunction("hello").resolve("handler.py"), copy.resolve("handler.py"));
        Files.writeString(copy.resolve("function.json"), "{\"name\":\"norecord\",\"runtime\":\"python3\",\"record\":false}");
        client.deploy("norecord", copy);
        JsonNode r = client.invoke("norecord", "reap", Json.parse("{\"name\":\"fb\"}"));
        assertEquals("hello, fb", r.path("result").path("greeting").asText());
        assertEquals("vanilla", r.path("cold_start").asText());
        assertTrue(r.path("warnings").get(0).asText().contains("no current working-set record"), r.toString());
        client.delete("/functions/norecord");
    }

    @Test
    void fourConcurrentRestoresAreFourClones() throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<JsonNode>> calls = IntStream.range(0, 4)
                    .mapToObj(i -> CompletableFuture.supplyAsync(
                            () -> client.invoke("hello", "vanilla", Json.parse("{\"name\":\"n" + i + "\"}")), pool))
                    .toList();
            Set<String> instances = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                JsonNode r = calls.get(i).get();
                assertEquals("hello, n" + i, r.path("result").path("greeting").asText());
                instances.add(r.path("instance").asText());
            }
            assertEquals(4, instances.size(), "each restore is its own VM");
        }
    }

    @Test
    void handlerExceptionIs500WithTraceback() {
        var e = assertThrows(DaemonException.class,
                () -> client.invoke("probe", "warm", Json.parse("{\"raise\":\"broken input\"}")));
        assertEquals(500, e.status());
        assertEquals("handler_error", e.body().path("error").path("code").asText());
        assertTrue(e.body().path("error").path("message").asText().contains("broken input"));
        assertTrue(e.body().path("error").path("traceback").asText().contains("ValueError"));
        // The instance survived its handler's exception.
        assertEquals("ok", client.invoke("probe", "warm", Json.parse("{\"x\":\"ok\"}")).path("result").path("echo").path("x").asText());
    }

    @Test
    void slowHandlerTimesOutWith504AndTheNextCallWorks() {
        var e = assertThrows(DaemonException.class,
                () -> client.invoke("probe", "vanilla", Json.parse("{\"sleep_s\": 30}")));
        assertEquals(504, e.status());
        assertEquals(1, client.invoke("probe", "warm", Json.parse("{\"n\":1}")).path("result").path("echo").path("n").asInt());
    }

    @Test
    void killedVmIs502ForThatCallOnly() throws Exception {
        CompletableFuture<Integer> call = CompletableFuture.supplyAsync(() -> {
            try {
                client.invoke("probe", "vanilla", Json.parse("{\"sleep_s\": 3}"));
                return 200;
            } catch (DaemonException e) {
                return e.status();
            }
        });
        long pid = -1;
        for (int i = 0; i < 200 && pid < 0; i++) {
            Thread.sleep(50);
            for (JsonNode inst : client.get("/instances").path("instances")) {
                if (inst.path("function").asText().equals("probe") && inst.path("state").asText().equals("busy")) {
                    pid = inst.path("pid").asLong();
                }
            }
        }
        assertTrue(pid > 0, "found the busy instance");
        Thread.sleep(300);
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        assertEquals(502, call.get());
        assertEquals("after", client.invoke("probe", "warm", Json.parse("{\"x\":\"after\"}")).path("result").path("echo").path("x").asText());
    }

    @Test
    void badRequestsGetClearJsonErrors() throws Exception {
        assertStatus(404, "not_found", post("/functions/nope/invoke", "{}"));
        assertStatus(400, "bad_json", post("/functions/hello/invoke", "{not json"));
        assertStatus(400, "bad_mode", post("/functions/hello/invoke?mode=sideways", "{}"));
        assertStatus(413, "body_too_large", post("/functions/hello/invoke", "{\"x\":\"" + "a".repeat(100_000) + "\"}"));
        assertStatus(404, "not_found", http.send(HttpRequest.newBuilder(URI.create(api.url() + "/nowhere")).build(),
                HttpResponse.BodyHandlers.ofString()));
        assertEquals("ok", client.get("/healthz").path("status").asText());
        client.invoke("hello", "warm", Json.object());
        String metrics = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("thaw_invocations_total{function=\"hello\""), metrics);
        assertTrue(metrics.contains("thaw_invocation_errors_total{code=\"bad_mode\""), metrics);
    }

    @Test
    void deployFromUploadedTar() throws Exception {
        Path dir = VmFixture.exampleFunction("hello");
        byte[] tar = tar(dir, "tarhello");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/functions/tarhello"))
                .header("Content-Type", "application/x-tar").PUT(HttpRequest.BodyPublishers.ofByteArray(tar)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("hello, t", client.invoke("tarhello", "vanilla", Json.parse("{\"name\":\"t\"}")).path("result").path("greeting").asText());
        client.delete("/functions/tarhello");
        assertStatus(404, "not_found", post("/functions/tarhello/invoke", "{}"));
    }

    @Test
    void restartKeepsDeployedFunctionsAndCorruptSnapshotsAreNamed() throws Exception {
        api.close();
        vms.restart();
        startApi();
        assertEquals("hello, again", client.invoke("hello", "vanilla", Json.parse("{\"name\":\"again\"}"))
                .path("result").path("greeting").asText());

        // Corrupt a copy's snapshot: the restore must fail fast with the file's name.
        Path copy = Files.createTempDirectory("thaw-it-fn");
        Files.copy(VmFixture.exampleFunction("probe").resolve("handler.py"), copy.resolve("handler.py"));
        Files.writeString(copy.resolve("function.json"), "{\"name\":\"fragile\",\"runtime\":\"python3\",\"memory_mib\":256}");
        JsonNode info = client.deploy("fragile", copy);
        Path vmstate = Path.of(vms.dataDir.toString(), "functions", "fragile", "snapshot", "vmstate");
        assertEquals(info.path("snapshot").path("files").get(0).path("size").asLong(), Files.size(vmstate));
        try (RandomAccessFile f = new RandomAccessFile(vmstate.toFile(), "rw")) {
            f.seek(100);
            int b = f.read();
            f.seek(100);
            f.write(b ^ 0xff);
        }
        Files.setLastModifiedTime(vmstate, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 2000));
        HttpResponse<String> r = post("/functions/fragile/invoke?mode=vanilla", "{}");
        assertStatus(500, "snapshot_corrupt", r);
        assertTrue(r.body().contains(vmstate.toString()), r.body());
    }

    @Test
    void idleRestoredVmUsesUnderFivePercentOfACore() throws Exception {
        long pid = qemuPidOf(client.invoke("hello", "vanilla", Json.parse("{}")));
        // The work that follows a restore (the guest's first run, page faults) ends after a time
        // that a loaded host stretches: a fixed settle time before one window measured that work
        // on CI. So the VM has 30 s to settle, and passes once some 4 s window of it, sampled
        // each second, stays under 5% of a core; a VM that never idles fails.
        final int window = 4;
        java.util.ArrayDeque<Long> ticks = new java.util.ArrayDeque<>(List.of(cpuTicks(pid)));
        double share = Double.NaN, best = Double.MAX_VALUE;
        for (int s = 1; s <= 30; s++) {
            Thread.sleep(1000); // sampling a real QEMU's CPU time
            ticks.addLast(cpuTicks(pid));
            if (ticks.size() > window + 1) ticks.removeFirst();
            if (ticks.size() <= window) continue;
            share = (ticks.getLast() - ticks.getFirst()) / 100.0 / window; // USER_HZ is 100
            best = Math.min(best, share);
            if (share < 0.05) break;
        }
        System.err.printf("idle restored VM used %.1f%% of a core (best %d s window)%n", best * 100, window);
        assertTrue(share < 0.05, "idle VM never went under 5% of a core in 30 s; best " + window + " s window: "
                + best * 100 + "%");
    }

    @Test
    void restoredGuestMemoryIsNotAdvisedHugePages() throws Exception {
        long pid = qemuPidOf(client.invoke("hello", "vanilla", Json.parse("{}")));
        // The VmFlags of QEMU's mapping of the snapshot memory file: "hg" would mean MADV_HUGEPAGE took effect.
        List<String> smaps = Files.readAllLines(Path.of("/proc/" + pid + "/smaps"));
        String flags = null;
        boolean inMemory = false;
        for (String line : smaps) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) inMemory = line.endsWith("/snapshot/memory");
            else if (inMemory && line.startsWith("VmFlags:")) flags = line;
        }
        assertNotNull(flags, "QEMU " + pid + " has no mapping of the snapshot memory file");
        assertFalse(List.of(flags.substring(8).trim().split(" ")).contains("hg"), flags);
        // thaw's madvise filter (inherited from the spawner thread) and QEMU's own -sandbox filters.
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        assertTrue(status.contains("Seccomp:\t2"), status);
        int filters = Integer.parseInt(status.replaceAll("(?s).*Seccomp_filters:\t(\\d+).*", "$1"));
        assertTrue(filters >= 2, "thaw's filter and QEMU's sandbox: " + filters);
    }

    /** The QEMU process of the instance that answered {@code r}. */
    private long qemuPidOf(JsonNode r) {
        for (JsonNode inst : client.get("/instances").path("instances")) {
            if (inst.path("id").asText().equals(r.path("instance").asText())) return inst.path("pid").asLong();
        }
        throw new AssertionError("instance " + r.path("instance") + " is not listed");
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(api.url() + path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void assertStatus(int status, String code, HttpResponse<String> r) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, Json.parse(r.body()).path("error").path("code").asText(), r.body());
    }

    /** A minimal ustar archive of a function directory, renamed to {@code name}. */
    static byte[] tar(Path dir, String name) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String spec = Files.readString(dir.resolve("function.json")).replaceFirst("\"name\":\\s*\"[^\"]+\"", "\"name\": \"" + name + "\"");
        entry(out, "function.json", spec.getBytes(StandardCharsets.UTF_8));
        entry(out, "handler.py", Files.readAllBytes(dir.resolve("handler.py")));
        out.write(new byte[1024]);
        return out.toByteArray();
    }

    private static void entry(ByteArrayOutputStream out, String name, byte[] data) throws IOException {
        byte[] h = new byte[512];
        System.arraycopy(name.getBytes(StandardCharsets.US_ASCII), 0, h, 0, name.length());
        put(h, 100, String.format("%07o", 0644));
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, String.format("%011o", System.currentTimeMillis() / 1000));
        h[156] = '0';
        put(h, 257, "ustar");
        put(h, 263, "00");
        for (int i = 148; i < 156; i++) h[i] = ' ';
        int sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        out.write(h);
        out.write(data);
        out.write(new byte[(512 - data.length % 512) % 512]);
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }
}
