package dev.thaw.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageCacheTest {
    private static final int PAGES = 16 * 256; // 16 MiB, more than any readahead window here
    private final Scratch scratch = new Scratch();

    @AfterEach
    void cleanUp() throws IOException {
        scratch.close();
    }

    @Test
    void freshlyWrittenFileIsResidentAndDropEvictsEveryPage() throws IOException {
        Path file = scratch.randomFile("mem", PAGES, 11);
        assertEquals(PAGES, PageCache.residentCount(file), "a just-written file is in the page cache");
        PageCache.drop(file);
        // Nothing reads the file between drop and mincore, and mincore itself faults nothing in.
        assertEquals(0, PageCache.residentCount(file));
    }

    @Test
    void dropWritesBackDirtyPagesFirst() throws IOException {
        Path file = scratch.dir().resolve("dirty");
        java.nio.file.Files.write(file, new byte[PAGES * Scratch.PAGE]); // not fsynced: dirty pages
        PageCache.drop(file);
        assertEquals(0, PageCache.residentCount(file));
    }

    @Test
    void readingARangeMakesItResident() throws IOException {
        Path file = scratch.randomFile("mem", PAGES, 12);
        PageCache.drop(file);
        long read = PageCache.touchSequential(file, 100L * Scratch.PAGE, 20L * Scratch.PAGE);
        assertEquals(20L * Scratch.PAGE, read);
        BitSet resident = PageCache.residentPages(file);
        for (int page = 100; page < 120; page++) {
            assertTrue(resident.get(page), "page " + page + " was read");
        }
        // Kernel readahead may add neighbours, but one 80 KiB read cannot pull in 16 MiB.
        assertTrue(resident.cardinality() < PAGES, "resident " + resident.cardinality());
    }

    @Test
    void touchSequentialStopsAtEndOfFile() throws IOException {
        Path file = scratch.randomFile("mem", 64, 13);
        PageCache.drop(file);
        assertEquals(64L * Scratch.PAGE, PageCache.touchSequential(file));
        assertEquals(64, PageCache.residentCount(file));
    }

    @Test
    void prefetchBringsTheWholeRangeInEventually() throws IOException, InterruptedException {
        Path file = scratch.randomFile("mem", PAGES, 14);
        PageCache.drop(file);
        PageCache.prefetch(file, 0, (long) PAGES * Scratch.PAGE);
        // readahead(2) only queues the reads; wait for them (bounded) rather than assume timing.
        assertEquals(PAGES, awaitResident(file, PAGES));
    }

    @Test
    void prefetchOfRunsCoversEachRun() throws IOException, InterruptedException {
        Path file = scratch.randomFile("mem", PAGES, 15);
        PageCache.drop(file);
        List<PageRun> runs = List.of(new PageRun(10, 5), new PageRun(3000, 600));
        PageCache.prefetch(file, runs);
        awaitResident(file, 605);
        BitSet resident = PageCache.residentPages(file);
        BitSet wanted = Runs.toBitSet(runs);
        wanted.andNot(resident);
        assertTrue(wanted.isEmpty(), "pages not resident: " + wanted);
    }

    private static long awaitResident(Path file, long atLeast) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        long count;
        while ((count = PageCache.residentCount(file)) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return count;
    }
}
