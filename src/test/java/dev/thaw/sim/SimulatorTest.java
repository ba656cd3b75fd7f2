package dev.thaw.sim;

import dev.thaw.common.Json;
import dev.thaw.load.Replay;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimulatorTest {
    static final long S = 1_000_000_000L;
    /** warm: 10 ms of platform + the call's duration; a restore adds 90 ms; 256 MiB per instance. */
    static final BenchProfile.Function FN = new BenchProfile.Function("fn", 10, 5, 90, 256);
    static final Simulator.NodeShape BIG = new Simulator.NodeShape(4, 4096, 32);

    static Replay replay(long spanNanos, long[] at, int[] fn, int[] durationMs, int functions) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < functions; i++) names.add("f" + i);
        return new Replay(names, names, at, fn, durationMs, spanNanos, List.of());
    }

    static SimResult run(Replay r, int nodes, Simulator.NodeShape shape, String policy, String keepAlive, long seed) {
        List<BenchProfile.Function> p = Collections.nCopies(r.sources().size(), FN);
        return new Simulator(r, p, nodes, shape, policy, SimStudy.keepAlive(keepAlive), seed).run((c, d, t) -> {});
    }

    @Test
    void twoNodesOneFunctionThreeCallsByHand() {
        // calls at 0 s, 1 s and 100 s, 100 ms each; keep-alive 60 s; the window is 200 s
        Replay r = replay(200 * S, new long[] {0, S, 100 * S}, new int[3], new int[] {100, 100, 100}, 1);
        SimResult res = run(r, 2, BIG, "locality", "fixed:60s", 1);
        // 0 s: cold on node-0 (200 ms, idle from 0.2 s); 1 s: warm (110 ms, idle from 1.11 s, stops at 61.11 s);
        // 100 s: cold again (200 ms, idle from 100.2 s, stops at 160.2 s)
        assertEquals(3, res.served());
        assertEquals(2, res.coldStarts());
        assertEquals(0, res.rejected());
        assertEquals(200.0, res.latencyMs().p50());
        assertEquals((200 + 200 + 110) / 3.0, res.latencyMs().mean(), 1e-3);
        assertEquals(61.11 + 60.2, res.instanceSeconds(), 1e-3);
        assertEquals((61.11 + 60.2) * 0.25, res.memoryGibS(), 1e-3);
        assertEquals((0.8 + 60 + 60) * 0.25, res.idleMemoryGibS(), 1e-3);
        assertEquals(0.25, res.peakMemoryGib());
        assertEquals(1, res.peakInstances());
        assertEquals(200.0, res.simulatedSeconds());
    }

    @Test
    void aCallEveryNodeRefusesIsA429AndIdleInstancesAreEvictedForRoom() {
        Simulator.NodeShape one = new Simulator.NodeShape(1, 256, 8); // room for one instance
        // two overlapping calls of f0: the second finds the only instance busy
        Replay overlap = replay(10 * S, new long[] {0, S / 100}, new int[] {0, 0}, new int[] {1000, 1000}, 1);
        SimResult r1 = run(overlap, 1, one, "locality", "fixed:10m", 1);
        assertEquals(1, r1.rejected());
        assertEquals(1, r1.served());
        // f0 then f1 after f0 ended: f0's idle instance is stopped to make room
        Replay evict = replay(10 * S, new long[] {0, 5 * S}, new int[] {0, 1}, new int[] {100, 100}, 2);
        SimResult r2 = run(evict, 1, one, "locality", "fixed:10m", 1);
        assertEquals(0, r2.rejected());
        assertEquals(1, r2.evictions());
        assertEquals(2, r2.coldStarts());
    }

    @Test
    void localityBeatsRandomOnColdStarts() {
        // one function called every 10 s for 10 minutes over 50 nodes, instances kept 10 minutes
        int n = 60;
        long[] at = new long[n];
        for (int i = 0; i < n; i++) at[i] = i * 10 * S;
        Replay r = replay(600 * S, at, new int[n], filled(n, 100), 1);
        SimResult locality = run(r, 50, BIG, "locality", "fixed:10m", 7);
        SimResult random = run(r, 50, BIG, "random", "fixed:10m", 7);
        assertEquals(1, locality.coldStarts(), "locality reuses the one warm instance");
        assertTrue(random.coldStarts() > 20, "random spreads calls over nodes with no instance: " + random.coldStarts());
        assertTrue(random.idleMemoryGibS() > 10 * locality.idleMemoryGibS());
    }

    @Test
    void theHistogramPolicyPrewarmsAPeriodicFunctionAndHoldsLessIdleMemory() {
        // a call every 5 minutes for 4 hours: after 10 idle times the histogram stops the instance after
        // each call and restores one at 4.5 min (5 min bin start − 10%), kept until 5.5 min (bin end + 10%)
        int n = 48;
        long[] at = new long[n];
        for (int i = 0; i < n; i++) at[i] = i * 300 * S;
        Replay r = replay(n * 300 * S, at, new int[n], filled(n, 100), 1);
        SimResult fixed = run(r, 1, BIG, "locality", "fixed:10m", 1);
        SimResult hist = run(r, 1, BIG, "locality", "histogram:10m", 1);
        assertEquals(1, fixed.coldStarts());
        assertEquals(0, fixed.prewarms());
        assertEquals(1, hist.coldStarts(), "every later call finds the pre-warmed instance");
        assertTrue(hist.prewarms() >= n - 12, "prewarms: " + hist.prewarms());
        assertTrue(hist.idleMemoryGibS() < fixed.idleMemoryGibS() / 2,
                hist.idleMemoryGibS() + " GiB·s idle vs fixed " + fixed.idleMemoryGibS());
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedAnotherRandomRouting() {
        Replay r = randomReplay(3000, 5, 99);
        BenchProfile bench = new BenchProfile(Path.of("bench.json"), "faasnap", java.util.Map.of("fn", FN));
        var ks = List.of(SimStudy.keepAlive("fixed:2m"), SimStudy.keepAlive("histogram"));
        var ps = List.of("locality", "random", "least-loaded");
        String a = Json.pretty(SimStudy.run("t", r, bench, "hash", 40, BIG, ps, ks, 5, (c, d, t) -> {}));
        String b = Json.pretty(SimStudy.run("t", r, bench, "hash", 40, BIG, ps, ks, 5, (c, d, t) -> {}));
        String c = Json.pretty(SimStudy.run("t", r, bench, "hash", 40, BIG, ps, ks, 6, (c2, d, t) -> {}));
        assertEquals(a, b);
        assertNotEquals(a, c, "the random policy's choices follow the seed");
    }

    @Test
    void benchResultsGiveWarmAndRestoreCostsPerFunction() throws Exception {
        Path file = Files.createTempFile("bench", ".json");
        Files.writeString(file, """
                {"functions": {"hello": {"memory_mib": 128}},
                 "results": [
                  {"function": "hello", "mode": "warm", "parallelism": 1, "total_ms": {"median": 30}, "phases_ms": {"guest_exec": 2}},
                  {"function": "hello", "mode": "faasnap", "parallelism": 1, "total_ms": {"median": 330}},
                  {"function": "hello", "mode": "faasnap", "parallelism": 4, "total_ms": {"median": 900}},
                  {"function": "json", "mode": "warm", "parallelism": 1, "total_ms": {"median": 40}}]}""");
        BenchProfile p = BenchProfile.read(file, "faasnap", 256);
        assertEquals(List.of("hello"), List.copyOf(p.functions().keySet()), "json has no faasnap row");
        BenchProfile.Function h = p.functions().get("hello");
        assertEquals(28, h.warmOverheadMs());
        assertEquals(300, h.restoreExtraMs());
        assertEquals(128, h.memoryMib());
        assertEquals(28 + 100 + 300, h.latencyMs(100, true));
        var e = assertThrows(IllegalArgumentException.class, () -> BenchProfile.read(file, "reap", 256));
        assertTrue(e.getMessage().contains("no function has both a warm and a reap result"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchProfile.read(file, "warm", 256));
        assertThrows(IllegalArgumentException.class, () -> p.map("nosuch", List.of("a"), List.of("a")));
        assertEquals("hello", p.map("hash", List.of("a", "b"), List.of("x", "y")).get(1).name());
        Files.delete(file);
    }

    @Test
    void keepAliveSettingsAreParsedStrictly() {
        assertEquals("fixed:10m", SimStudy.keepAlive("fixed:10m").label());
        assertEquals(java.time.Duration.ofMillis(1500), SimStudy.duration("1.5s"));
        for (String bad : List.of("fixed", "fixed:10", "fixed:-1m", "histo", "histogram:abc", "")) {
            assertThrows(IllegalArgumentException.class, () -> SimStudy.keepAlive(bad), bad);
        }
    }

    static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** {@code n} calls of {@code functions} functions at random times over 30 minutes. */
    static Replay randomReplay(int n, int functions, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long span = 1800 * S;
        long[] at = new long[n];
        for (int i = 0; i < n; i++) at[i] = rnd.nextLong(span);
        java.util.Arrays.sort(at);
        int[] fn = new int[n];
        int[] dur = new int[n];
        for (int i = 0; i < n; i++) {
            fn[i] = rnd.nextInt(functions);
            dur[i] = 50 + rnd.nextInt(2000);
        }
        return replay(span, at, fn, dur, functions);
    }
}
