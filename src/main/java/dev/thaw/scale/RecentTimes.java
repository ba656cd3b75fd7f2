package dev.thaw.scale;

/**
 * The last few durations of one kind (service times, restore times) of one function, and their
 * mean, with a prior that stands in until the first sample arrives.
 *
 * <p>A fixed ring of the newest samples rather than an exponential average: the mean of the last
 * {@code capacity} values forgets a slow period completely once it is over, and a test can state
 * exactly what the estimate is after a given sequence. Thread-safe (each call is a few field
 * updates under the object's monitor, far below the cost of what is timed).
 */
public final class RecentTimes {
    private final double[] ring;
    private final double priorMs;
    private int count;
    private int next;
    private double sum;

    /** @param capacity how many of the newest samples the mean covers; @param priorMs the estimate before any sample */
    public RecentTimes(int capacity, double priorMs) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        if (!(priorMs >= 0)) throw new IllegalArgumentException("prior must be a duration >= 0, got " + priorMs);
        this.ring = new double[capacity];
        this.priorMs = priorMs;
    }

    /** Adds one duration in milliseconds (negative or non-finite values are ignored: a clock glitch is no sample). */
    public synchronized void add(double ms) {
        if (!Double.isFinite(ms) || ms < 0) return;
        if (count == ring.length) sum -= ring[next];
        else count++;
        ring[next] = ms;
        sum += ms;
        next = (next + 1) % ring.length;
    }

    /** The mean of the samples kept, or the prior while there is none. */
    public synchronized double meanMs() {
        return count == 0 ? priorMs : sum / count;
    }

    /**
     * The {@code q}-quantile (0 < q <= 1, nearest rank) of the samples kept, or the prior while
     * there is none. A high one says how long a call takes when things go badly, which the mean of
     * a mostly fast, sometimes stalled stream hides.
     */
    public synchronized double quantileMs(double q) {
        if (!(q > 0 && q <= 1)) throw new IllegalArgumentException("quantile must be in (0, 1], got " + q);
        if (count == 0) return priorMs;
        double[] sorted = java.util.Arrays.copyOf(ring, count);
        java.util.Arrays.sort(sorted);
        return sorted[Math.max(0, (int) Math.ceil(q * count) - 1)];
    }

    public synchronized int count() {
        return count;
    }
}
