package dev.thaw.memory;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Turns sets of page numbers into sorted runs of consecutive pages, the unit of every bulk
 * operation here: one readahead, one read or one hole punch per run instead of per page.
 *
 * <p>Design: optional gap merging trades a few extra pages for fewer, larger operations: FaaSnap
 * merges gaps below 32 pages (128 KiB), where one larger sequential read is cheaper than two
 * seeks. With {@code mergeGapsBelow} = g, two runs separated by fewer than g missing pages become
 * one run that also covers the gap; g = 0 or 1 merges nothing beyond adjacent pages. Cost is one
 * linear pass over the set bits.
 */
public final class Runs {
    private Runs() {}

    /** Maximal runs of consecutive set bits, in page order. */
    public static List<PageRun> of(BitSet pages) {
        return of(pages, 0);
    }

    /** Runs of set bits, merging two runs whose gap is shorter than {@code mergeGapsBelow} pages. */
    public static List<PageRun> of(BitSet pages, int mergeGapsBelow) {
        requireGap(mergeGapsBelow);
        List<PageRun> runs = new ArrayList<>();
        long start = -1;
        long end = -1; // exclusive end of the current run
        for (int page = pages.nextSetBit(0); page >= 0; ) {
            int runEnd = pages.nextClearBit(page); // [page, runEnd) are all set
            if (start >= 0 && page - end < mergeGapsBelow) {
                end = runEnd;
            } else {
                if (start >= 0) {
                    runs.add(new PageRun(start, end - start));
                }
                start = page;
                end = runEnd;
            }
            page = runEnd == Integer.MAX_VALUE ? -1 : pages.nextSetBit(runEnd);
        }
        if (start >= 0) {
            runs.add(new PageRun(start, end - start));
        }
        return runs;
    }

    /**
     * Runs from page numbers in ascending order (duplicates allowed, e.g. repeated faults on one
     * page), merging gaps shorter than {@code mergeGapsBelow} pages.
     */
    public static List<PageRun> of(long[] sortedPages, int mergeGapsBelow) {
        requireGap(mergeGapsBelow);
        List<PageRun> runs = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (long page : sortedPages) {
            if (start >= 0 && page < end - 1) {
                throw new IllegalArgumentException("pages not sorted: " + page + " after " + (end - 1));
            }
            if (start >= 0 && page - end < Math.max(mergeGapsBelow, 1)) {
                end = Math.max(end, page + 1);
            } else {
                if (start >= 0) {
                    runs.add(new PageRun(start, end - start));
                }
                start = page;
                end = page + 1;
            }
        }
        if (start >= 0) {
            runs.add(new PageRun(start, end - start));
        }
        return runs;
    }

    /** Total pages covered by {@code runs}. */
    public static long pageCount(List<PageRun> runs) {
        long total = 0;
        for (PageRun run : runs) {
            total += run.count();
        }
        return total;
    }

    /** The pages covered by {@code runs} as a set. */
    public static BitSet toBitSet(List<PageRun> runs) {
        BitSet pages = new BitSet();
        for (PageRun run : runs) {
            pages.set(Math.toIntExact(run.start()), Math.toIntExact(run.end()));
        }
        return pages;
    }

    private static void requireGap(int mergeGapsBelow) {
        if (mergeGapsBelow < 0) {
            throw new IllegalArgumentException("mergeGapsBelow must be >= 0, got " + mergeGapsBelow);
        }
    }
}
