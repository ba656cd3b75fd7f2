package dev.thaw.load;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Picks {@code n} functions out of a trace so that the sample looks like the trace.
 *
 * <p>Popularity first: functions are ranked by their invocations in the window and split
 * into {@code n} strata of equal size, and a candidate sample takes one random function from
 * each stratum — so rare and hot functions are represented in the trace's proportions.
 * Shape second: among {@value #CANDIDATES} such candidates (seeded), the one whose per-minute
 * load, normalised to its total, is closest (L1) to the whole trace's normalised per-minute
 * load wins. The absolute level is then a matter of the rate scale.
 */
final class Sampler {
    static final int CANDIDATES = 200;

    private Sampler() {}

    /** Indices (ascending) of the chosen functions; all of them if {@code n ≥ counts.length}. */
    static int[] sample(int[][] counts, int n, long seed) {
        int total = counts.length;
        if (n <= 0 || n >= total) {
            return IntStream.range(0, total).toArray();
        }
        long[] sums = new long[total];
        for (int f = 0; f < total; f++) {
            for (int c : counts[f]) {
                sums[f] += c;
            }
        }
        Integer[] ranked = IntStream.range(0, total).boxed().toArray(Integer[]::new);
        Arrays.sort(ranked, Comparator.<Integer>comparingLong(f -> sums[f]).thenComparingInt(f -> f));
        double[] target = profile(counts, IntStream.range(0, total).toArray());

        SplittableRandom rnd = new SplittableRandom(Seeds.mix(seed ^ 0x5A3B1E));
        int[] best = null;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int c = 0; c < CANDIDATES; c++) {
            int[] pick = new int[n];
            for (int s = 0; s < n; s++) {
                int from = (int) ((long) s * total / n);
                int to = (int) ((long) (s + 1) * total / n);
                pick[s] = ranked[from + rnd.nextInt(to - from)];
            }
            double d = distance(profile(counts, pick), target);
            if (d < bestDistance) {
                bestDistance = d;
                best = pick;
            }
        }
        Arrays.sort(best);
        return best;
    }

    /** Per-minute load of the given functions, normalised to sum to 1 (all zeros if idle). */
    static double[] profile(int[][] counts, int[] functions) {
        int minutes = counts.length == 0 ? 0 : counts[0].length;
        double[] p = new double[minutes];
        double sum = 0;
        for (int f : functions) {
            for (int m = 0; m < minutes; m++) {
                p[m] += counts[f][m];
                sum += counts[f][m];
            }
        }
        if (sum > 0) {
            for (int m = 0; m < minutes; m++) {
                p[m] /= sum;
            }
        }
        return p;
    }

    static double distance(double[] a, double[] b) {
        double d = 0;
        for (int m = 0; m < a.length; m++) {
            d += Math.abs(a[m] - b[m]);
        }
        return d;
    }
}
