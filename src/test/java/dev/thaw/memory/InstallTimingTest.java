package dev.thaw.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A measurement, not a test (off unless {@code -Dthaw.install.snapshot=<snapshot dir>}): the
 * {@code thaw} mode's install of a real snapshot's working set into a Firecracker stand-in, cold
 * page cache, the two ways in turns — reading {@code memory} after the handshake
 * ({@link ConcurrentInstall#start}) against reading {@code ws.pages} before it
 * ({@link ConcurrentInstall#startFromWorkingSetFile}). The stand-in connects 250 ms after the
 * install starts, as QEMU would after its start; the numbers are the time from the handshake to
 * the install's end. {@code -Dthaw.install.rounds=N} (default 5).
 */
@EnabledIfSystemProperty(named = "thaw.install.snapshot", matches = ".+")
class InstallTimingTest {
    @Test
    void installAfterTheHandshakeFromMemoryVersusFromWsPages() throws Exception {
        Path snap = Path.of(System.getProperty("thaw.install.snapshot"));
        Path memory = snap.resolve("memory"), wsPages = snap.resolve("ws.pages");
        WorkingSet ws = WorkingSet.read(snap.resolve("ws.json"));
        java.util.BitSet zero = ws.pages();
        zero.and(Runs.toBitSet(ws.zeroPages()));
        List<PageRun> zeroRuns = Runs.of(zero), fileRuns = Runs.of(ws.pages());
        int rounds = Integer.getInteger("thaw.install.rounds", 5);
        long size = Files.size(memory);
        List<String> rows = new ArrayList<>();
        Path dir = Files.createTempDirectory("install-timing");
        for (int r = 1; r <= rounds; r++) {
            for (boolean fromWsPages : new boolean[] {false, true}) {
                PageCache.drop(memory);
                PageCache.drop(wsPages);
                Path sock = dir.resolve("s" + r + fromWsPages + ".sock");
                try (PageServer server = PageServer.start(sock, memory, PageServer.Options.DEFAULT)) {
                    long t0 = System.nanoTime();
                    var install = fromWsPages
                            ? ConcurrentInstall.startFromWorkingSetFile(server, wsPages, fileRuns, zeroRuns, ws.loadingRuns(0))
                            : ConcurrentInstall.start(server, memory, zeroRuns, ws.faasnapRuns());
                    LockSupport.parkNanos(250_000_000L); // QEMU's start, which the new install's read overlaps
                    try (FirecrackerStandIn vmm = new FirecrackerStandIn(sock, size, 0)) {
                        ConcurrentInstall.Result res = install.get(60, TimeUnit.SECONDS);
                        double total = (System.nanoTime() - t0) / 1e6;
                        rows.add(String.format("round %d %-9s pages %d  handshake-to-end %.1f ms  start-to-end %.1f ms",
                                r, fromWsPages ? "ws.pages" : "memory", res.pages(), res.millis(), total));
                        assertTrue(res.pages() > 0, "the install put pages in");
                    }
                }
            }
        }
        rows.forEach(System.out::println);
    }
}
