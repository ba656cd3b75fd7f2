package dev.thaw.memory;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class WorkingSetTest {
    static BitSet bits(int... pages) {
        BitSet b = new BitSet();
        for (int p : pages) b.set(p);
        return b;
    }

    // Group 1 touches 100..101 and 10; group 2 touches 50 and 200. Pages 10 and 200 are zero.
    final WorkingSet ws = WorkingSet.of("snap1", 1024, 4,
            List.of(bits(100, 101, 10), new BitSet(), bits(50, 200)), bits(10, 200, 500));

    @Test
    void sizes() {
        assertEquals(5, ws.workingSetPages());
        assertEquals(3, ws.loadingSetPages());
        assertEquals(2, ws.groups().size(), "empty samples make no group");
    }

    @Test
    void reapReadsEveryWorkingSetPageInFileOrderWithShortGapsMerged() {
        // 10, 50, 100-101 are within 32 pages of each other only partly: 10..50 gap 39, 50..100 gap 49.
        assertEquals(List.of(new PageRun(10, 1), new PageRun(50, 1), new PageRun(100, 2), new PageRun(200, 1)), ws.reapRuns());
    }

    @Test
    void faasnapLoadsNonZeroPagesGroupByGroup() {
        assertEquals(List.of(new PageRun(100, 2), new PageRun(50, 1)), ws.faasnapRuns());
    }

    @Test
    void exactLoadingRunsKeepGroupOrderAndMergeNoGap() {
        WorkingSet w = WorkingSet.of("s", 1024, 4, List.of(bits(100, 102, 10), bits(50, 51, 101)), bits(10));
        assertEquals(List.of(new PageRun(100, 3), new PageRun(50, 2), new PageRun(101, 1)), w.faasnapRuns(), "merged: 100..102 spans the gap at 101");
        assertEquals(List.of(new PageRun(100, 1), new PageRun(102, 1), new PageRun(50, 2), new PageRun(101, 1)), w.loadingRuns(0),
                "exact: only recorded pages, each in the group that touched it first");
    }

    @Test
    void roundTripsThroughJson() throws Exception {
        Path f = Files.createTempDirectory("ws").resolve("ws.json");
        ws.write(f);
        assertEquals(ws, WorkingSet.read(f));
        assertNull(WorkingSet.read(f.resolveSibling("absent.json")));
    }

    @Test
    void sparseCopyReadsTheSameAndSkipsZeroPages() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "ws-sparse");
        Path src = dir.resolve("memory");
        byte[] data = new byte[64 * 4096];
        for (int page : new int[]{0, 7, 8, 63}) data[page * 4096 + 123] = (byte) (page + 1);
        Files.write(src, data);
        BitSet zero = ZeroPages.scan(src);
        assertEquals(60, zero.cardinality());
        Path copy = dir.resolve("memory.sparse");
        Prefetcher.writeSparseCopy(src, copy, zero);
        assertArrayEquals(data, Files.readAllBytes(copy));
        assertEquals(Runs.toBitSet(Runs.of(bits(0, 7, 8, 63))), ZeroPages.allocatedPages(copy));
    }

    @Test
    void prefetchMakesTheRunsResident() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "ws-prefetch");
        Path f = dir.resolve("memory");
        byte[] data = new byte[256 * 4096];
        java.util.Arrays.fill(data, (byte) 1);
        Files.write(f, data);
        PageCache.drop(f);
        Prefetcher.Result r = Prefetcher.start(f, List.of(new PageRun(10, 5), new PageRun(100, 3))).get();
        assertEquals(8, r.pages());
        BitSet resident = PageCache.residentPages(f);
        for (int p : new int[]{10, 14, 100, 102}) assertTrue(resident.get(p), "page " + p + " resident");
        assertTrue(resident.cardinality() < 64, "no large readahead: " + resident.cardinality());
    }
}
