package dev.thaw.flow;

import java.util.Arrays;
import java.util.Collection;

/** Exact nearest-rank percentiles; flow works on hundreds of traces, not millions, so no sketches. */
final class Stats {
    private Stats() {}

    /** Nearest rank: the smallest value with at least p% of the values at or below it; 0 when empty. */
    static long percentile(long[] values, double p) {
        if (values.length == 0) {
            return 0;
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[rank(sorted.length, p)];
    }

    static long percentile(Collection<Long> values, double p) {
        return percentile(values.stream().mapToLong(Long::longValue).toArray(), p);
    }

    static double percentile(double[] values, double p) {
        if (values.length == 0) {
            return 0;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[rank(sorted.length, p)];
    }

    static int percentileInt(int[] values, double p) {
        long[] longs = Arrays.stream(values).asLongStream().toArray();
        return (int) percentile(longs, p);
    }

    private static int rank(int n, double p) {
        int rank = (int) Math.ceil(p / 100.0 * n) - 1;
        return Math.clamp(rank, 0, n - 1);
    }

    /** a / b rounded to 4 decimals; 0 when b is 0. */
    static double ratio(double a, double b) {
        return b == 0 ? 0 : round(a / b);
    }

    static double round(double v) {
        return Math.round(v * 10_000.0) / 10_000.0;
    }
}
