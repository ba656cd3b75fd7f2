package dev.thaw.flow;

import dev.thaw.common.Percentiles;

import java.util.Arrays;
import java.util.Collection;

/**
 * Flow's percentiles and ratios. The percentile is thaw's one definition, {@link Percentiles}
 * (nearest rank, exact: flow works on hundreds of traces, not millions, so no sketches); the only
 * thing added here is flow's convention of showing 0 where there is nothing to take one of.
 */
final class Stats {
    private Stats() {}

    /** The nearest-rank percentile; 0 when empty. */
    static long percentile(long[] values, double p) {
        return Percentiles.of(values, p).orElse(0);
    }

    static long percentile(Collection<Long> values, double p) {
        return percentile(values.stream().mapToLong(Long::longValue).toArray(), p);
    }

    static double percentile(double[] values, double p) {
        return values.length == 0 ? 0 : Percentiles.of(values, p);
    }

    static int percentileInt(int[] values, double p) {
        return (int) percentile(Arrays.stream(values).asLongStream().toArray(), p);
    }

    /** a / b rounded to 4 decimals; 0 when b is 0. */
    static double ratio(double a, double b) {
        return b == 0 ? 0 : round(a / b);
    }

    static double round(double v) {
        return Math.round(v * 10_000.0) / 10_000.0;
    }
}
