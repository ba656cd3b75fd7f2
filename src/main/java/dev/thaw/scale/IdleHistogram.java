package dev.thaw.scale;

/**
 * The idle times of one function in fixed-width bins (the paper's: 1-minute bins over 4 hours),
 * plus a count of those beyond the range. Percentiles are read as bin edges, which is all the
 * policy needs and keeps the state to one array per function however long it runs.
 */
public final class IdleHistogram {
    private final long binNanos;
    private final long[] bins;
    private long inRange;
    private long outOfRange;

    public IdleHistogram(long binNanos, int binCount) {
        if (binNanos <= 0 || binCount < 1) throw new IllegalArgumentException("bins must be positive: " + binNanos + " ns × " + binCount);
        this.binNanos = binNanos;
        this.bins = new long[binCount];
    }

    public synchronized void add(long idleNanos) {
        long b = Math.max(0, idleNanos) / binNanos;
        if (b >= bins.length) {
            outOfRange++;
        } else {
            bins[(int) b]++;
            inRange++;
        }
    }

    public synchronized long total() {
        return inRange + outOfRange;
    }

    public synchronized long outOfRange() {
        return outOfRange;
    }

    /** The index of the bin holding the {@code p}-th percentile (0–100) of the in-range idle times; -1 if none. */
    public synchronized int percentileBin(double p) {
        if (inRange == 0) return -1;
        long rank = Math.max(1, (long) Math.ceil(p / 100 * inRange)); // nearest rank
        long seen = 0;
        for (int i = 0; i < bins.length; i++) {
            seen += bins[i];
            if (seen >= rank) return i;
        }
        return bins.length - 1;
    }

    /**
     * The coefficient of variation of the bin counts: high when idle times cluster in a few bins
     * (a pattern worth learning), low when they spread evenly over the range (no pattern).
     */
    public synchronized double binCountCv() {
        double mean = (double) inRange / bins.length;
        if (mean == 0) return 0;
        double sq = 0;
        for (long c : bins) sq += (c - mean) * (c - mean);
        return Math.sqrt(sq / bins.length) / mean;
    }

    public long binNanos() {
        return binNanos;
    }

    public int binCount() {
        return bins.length;
    }
}
