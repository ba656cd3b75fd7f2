package dev.thaw.common;

import java.util.Arrays;
import java.util.Collection;
import java.util.OptionalLong;

/**
 * thaw's one definition of a percentile, used by every report (bench, flow, load): the
 * <b>nearest rank</b>. The p-th percentile of n values is the smallest value with at least p% of
 * the values at or below it, i.e. the value of rank {@code max(1, ceil(p·n/100))} in ascending
 * order. So p0 is the minimum, p100 the maximum, and the median of an even count is the lower of
 * the two middle values — never an average, so every percentile is a value that was measured.
 *
 * <p>This is also what HdrHistogram's {@code getValueAtPercentile} computes: it counts up to
 * the same rank, taking p one ulp lower first so that a rank that is an integer in decimal
 * (p99 of 100 values) is not pushed one up by binary rounding. The rank here is computed the same
 * way, so the load generator's histograms and the exact small-sample code give the same
 * percentile on the same data, up to the histogram's value precision (it reports the highest
 * value of the bucket the rank falls in; exact below 2048 with 3 significant digits).
 *
 * <p>No value means no percentile: NaN for doubles, an empty {@link OptionalLong} for longs, so a
 * caller that wants a placeholder (flow's 0) says so where it reads the value.
 */
public final class Percentiles {
    /** The name reports give the definition (e.g. as a JSON field's value). */
    public static final String DEFINITION = "nearest rank";
    /** The definition in words, for a reader who does not know the name. */
    public static final String EXPLANATION = "the smallest value with at least p% of the values at or below it;"
            + " the median of an even count is the lower middle value";
    /** The line a text report prints under its tables. */
    public static final String NOTE = "percentiles: " + DEFINITION + " (" + EXPLANATION + ")";

    private Percentiles() {}

    /**
     * The 0-based index of the p-th percentile among n sorted values.
     *
     * @throws IllegalArgumentException when n is not positive or p is not within [0, 100]
     */
    public static int index(int n, double p) {
        if (n <= 0) throw new IllegalArgumentException("no percentile of " + n + " values");
        if (!(p >= 0 && p <= 100)) throw new IllegalArgumentException("percentile must be within [0, 100], got " + p);
        // Math.nextDown: p·n/100 that is an integer in decimal must not round up to the next rank.
        double rank = Math.ceil(Math.max(0, Math.nextDown(p)) * n / 100);
        return (int) Math.min(n, Math.max(1, rank)) - 1;
    }

    /** The p-th percentile of values already in ascending order; NaN when there are none. */
    public static double ofSorted(double[] sorted, double p) {
        return sorted.length == 0 ? checkedNaN(p) : sorted[index(sorted.length, p)];
    }

    /** The p-th percentile of values in any order (not modified); NaN when there are none. */
    public static double of(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return ofSorted(sorted, p);
    }

    /** The p-th percentile of values in any order; NaN when there are none. */
    public static double of(Collection<Double> values, double p) {
        return of(values.stream().mapToDouble(Double::doubleValue).toArray(), p);
    }

    /** The median: the 50th percentile, the lower middle value of an even count; NaN when there are none. */
    public static double median(Collection<Double> values) {
        return of(values, 50);
    }

    /** The p-th percentile of values in any order (not modified); empty when there are none. */
    public static OptionalLong of(long[] values, double p) {
        if (values.length == 0) {
            checkedNaN(p);
            return OptionalLong.empty();
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return OptionalLong.of(sorted[index(sorted.length, p)]);
    }

    /** An empty sample has no percentile, but a bad p is still a caller's mistake worth reporting. */
    private static double checkedNaN(double p) {
        index(1, p);
        return Double.NaN;
    }
}
