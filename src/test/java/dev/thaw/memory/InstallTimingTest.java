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
                            ? ConcurrentInstall.startFromWorkingSetFile(server, wsPages, fileRuns, List.of(), zeroRuns, ws.loadingRuns(0))
                            : ConcurrentInstall.start(server, memory, List.of(), zeroRuns, ws.faasnapRuns());
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

    /**
     * {@code reap}'s prefetch split in its two steps, cold page cache: the one O_DIRECT read of
     * {@code ws.pages} ({@link WorkingSetFile#read}) and the UFFDIO_COPY install ({@link PageServer#install}).
     */
    @Test
    void reapReadThenInstall() throws Exception {
        Path snap = Path.of(System.getProperty("thaw.install.snapshot"));
        Path memory = snap.resolve("memory"), wsPages = snap.resolve("ws.pages");
        WorkingSet ws = WorkingSet.read(snap.resolve("ws.json"));
        List<PageRun> fileRuns = Runs.of(ws.pages());
        long bytes = Files.size(wsPages);
        int rounds = Integer.getInteger("thaw.install.rounds", 5);
        Path dir = Files.createTempDirectory("reap-timing");
        List<String> rows = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            PageCache.drop(wsPages);
            Path sock = dir.resolve("r" + r + ".sock");
            try (PageServer server = PageServer.start(sock, memory, PageServer.Options.DEFAULT);
                 FirecrackerStandIn vmm = new FirecrackerStandIn(sock, Files.size(memory), 0);
                 java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                server.connected().get(10, TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                var contents = WorkingSetFile.read(wsPages, bytes, arena);
                long t1 = System.nanoTime();
                long pages = server.install(contents, fileRuns);
                long t2 = System.nanoTime();
                rows.add(String.format("round %d runs %d pages %d  read %.1f ms  install %.1f ms", r, fileRuns.size(), pages,
                        (t1 - t0) / 1e6, (t2 - t1) / 1e6));
                assertTrue(pages > 0);
            }
        }
        rows.forEach(System.out::println);
    }
}
