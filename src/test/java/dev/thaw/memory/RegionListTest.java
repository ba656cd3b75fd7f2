package dev.thaw.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegionListTest {
    @Test
    void tinyZeroRunsStayInTheFileMapping() {
        List<PageRun> zero = List.of(new PageRun(0, 3), new PageRun(5, 4), new PageRun(20, 1), new PageRun(30, 100));
        assertEquals(List.of(new PageRun(5, 4), new PageRun(30, 100)), RegionList.regions(zero));
    }

    @Test
    void tooManyRunsRaiseTheThresholdUntilTheyFit() {
        List<PageRun> zero = new ArrayList<>();
        for (int i = 0; i < 100; i++) zero.add(new PageRun(i * 100L, 4 + (i % 10))); // lengths 4..13
        assertEquals(100, RegionList.regions(zero, 4, 100).size());
        List<PageRun> capped = RegionList.regions(zero, 4, 50); // threshold 8: lengths 8..13, 60 runs; then 16: none
        assertTrue(capped.size() <= 50);
        assertEquals(List.of(), capped);
        assertEquals(60, RegionList.regions(zero, 8, 60).size());
    }

    @Test
    void formatIsTheStrictTextTheCPreloadReads() {
        assertEquals("thaw-regions 1\npages 64\n5 4\n30 34\nend\n",
                RegionList.format(64, List.of(new PageRun(5, 4), new PageRun(30, 34))));
        assertEquals("thaw-regions 1\npages 8\nend\n", RegionList.format(8, List.of()));
    }

    @Test
    void formatRefusesRegionsOutOfOrderOverlappingOrPastTheFile() {
        assertThrows(IllegalArgumentException.class, () -> RegionList.format(64, List.of(new PageRun(30, 4), new PageRun(5, 4))));
        assertThrows(IllegalArgumentException.class, () -> RegionList.format(64, List.of(new PageRun(5, 4), new PageRun(8, 4))));
        assertThrows(IllegalArgumentException.class, () -> RegionList.format(64, List.of(new PageRun(60, 5))));
    }

    @Test
    void writeReplacesAtomicallyAndIsWorldReadable(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sub").resolve("x.regions");
        RegionList.write(f, 16, List.of(new PageRun(4, 4)));
        assertEquals("thaw-regions 1\npages 16\n4 4\nend\n", Files.readString(f));
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        try (var s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void prefetchRunsSkipTheAnonymousRegionsAndKeepTheirOrder() {
        List<PageRun> loading = List.of(new PageRun(100, 20), new PageRun(0, 10), new PageRun(50, 5));
        List<PageRun> regions = List.of(new PageRun(2, 3), new PageRun(105, 5), new PageRun(118, 10));
        assertEquals(List.of(new PageRun(100, 5), new PageRun(110, 8), new PageRun(0, 2), new PageRun(5, 5), new PageRun(50, 5)),
                RegionList.without(loading, regions));
        assertEquals(List.of(), RegionList.without(List.of(new PageRun(3, 2)), List.of(new PageRun(0, 10))));
    }
}
