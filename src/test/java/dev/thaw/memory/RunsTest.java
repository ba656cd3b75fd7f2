package dev.thaw.memory;

import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunsTest {

    private static BitSet bits(int... pages) {
        BitSet set = new BitSet();
        for (int page : pages) {
            set.set(page);
        }
        return set;
    }

    @Test
    void consecutivePagesBecomeOneRun() {
        assertEquals(List.of(new PageRun(0, 3), new PageRun(5, 1), new PageRun(10, 2)),
                Runs.of(bits(0, 1, 2, 5, 10, 11)));
        assertEquals(List.of(), Runs.of(new BitSet()));
    }

    @Test
    void gapsShorterThanTheLimitAreMerged() {
        BitSet pages = bits(0, 1, 4, 40, 71);
        // Gap 0..1 -> 4 is 2 pages; 4 -> 40 is 35; 40 -> 71 is 30.
        assertEquals(List.of(new PageRun(0, 2), new PageRun(4, 1), new PageRun(40, 1), new PageRun(71, 1)),
                Runs.of(pages, 2));
        assertEquals(List.of(new PageRun(0, 5), new PageRun(40, 1), new PageRun(71, 1)), Runs.of(pages, 3));
        assertEquals(List.of(new PageRun(0, 5), new PageRun(40, 32)), Runs.of(pages, 32));
        assertEquals(List.of(new PageRun(0, 72)), Runs.of(pages, 36));
    }

    @Test
    void sortedOffsetsWithDuplicatesGiveTheSameRunsAsABitSet() {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 200; round++) {
            long[] pages = random.longs(random.nextInt(1, 300), 0, 2000).sorted().toArray();
            BitSet set = new BitSet();
            for (long page : pages) {
                set.set((int) page);
            }
            int gap = random.nextInt(0, 40);
            List<PageRun> runs = Runs.of(pages, gap);
            assertEquals(Runs.of(set, gap), runs);
            // Every input page is covered, and the runs cover at least the distinct input pages.
            BitSet covered = Runs.toBitSet(runs);
            BitSet missing = (BitSet) set.clone();
            missing.andNot(covered);
            assertTrue(missing.isEmpty());
            assertTrue(Runs.pageCount(runs) >= set.cardinality());
        }
    }

    @Test
    void unsortedOffsetsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Runs.of(new long[] {5, 3}, 0));
        assertThrows(IllegalArgumentException.class, () -> Runs.of(new BitSet(), -1));
    }

    @Test
    void runKnowsItsBytes() {
        PageRun run = new PageRun(3, 2);
        assertEquals(5, run.end());
        assertEquals(3 * 4096, run.offset());
        assertEquals(2 * 4096, run.length());
        assertThrows(IllegalArgumentException.class, () -> new PageRun(0, 0));
    }
}
