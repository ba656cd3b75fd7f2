package dev.thaw.load;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Turns a per-minute invocation count into arrival times inside that minute (invitro's
 * method): the count is always kept exactly, only the spacing is random.
 */
final class Arrivals {
    private Arrivals() {}

    enum Kind {
        /**
         * Exponential inter-arrival times (a Poisson process), rescaled so that the
         * {@code n} arrivals and the gap after the last fill the minute exactly.
         */
        EXPONENTIAL,
        /** {@code n} independent uniform times in the minute, sorted. */
        UNIFORM,
        /** Evenly spaced: {@code k · 60/n}. */
        EQUIDISTANT;

        static Kind parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + s + "' is not exponential, uniform or equidistant");
            }
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Writes {@code count} ascending arrival times (seconds) within
     * [{@code minuteStart}, {@code minuteStart + 60}) into {@code out} from {@code offset}.
     */
    static void minute(int count, Kind kind, SplittableRandom rnd, double minuteStart, double[] out, int offset) {
        if (count <= 0) {
            return;
        }
        switch (kind) {
            case EXPONENTIAL -> {
                // n + 1 gaps: the last one runs from the last arrival to the end of the minute,
                // so arrivals never land on the next minute's boundary.
                double[] gaps = new double[count + 1];
                double sum = 0;
                for (int k = 0; k <= count; k++) {
                    gaps[k] = -Math.log(1.0 - rnd.nextDouble());
                    sum += gaps[k];
                }
                double t = 0;
                for (int k = 0; k < count; k++) {
                    t += gaps[k] * 60.0 / sum;
                    out[offset + k] = minuteStart + Math.min(t, Math.nextDown(60.0));
                }
            }
            case UNIFORM -> {
                for (int k = 0; k < count; k++) {
                    out[offset + k] = rnd.nextDouble() * 60.0;
                }
                Arrays.sort(out, offset, offset + count);
                for (int k = 0; k < count; k++) {
                    out[offset + k] += minuteStart;
                }
            }
            case EQUIDISTANT -> {
                for (int k = 0; k < count; k++) {
                    out[offset + k] = minuteStart + k * 60.0 / count;
                }
            }
        }
    }

    /** Arrivals for a whole series of per-minute counts (minute {@code m} starts at {@code 60·m}). */
    static double[] series(int[] counts, Kind kind, SplittableRandom rnd) {
        long total = 0;
        for (int c : counts) {
            total += c;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many invocations: " + total);
        }
        double[] out = new double[(int) total];
        int pos = 0;
        for (int m = 0; m < counts.length; m++) {
            minute(counts[m], kind, rnd, 60.0 * m, out, pos);
            pos += counts[m];
        }
        return out;
    }

    /**
     * Scales per-minute counts by {@code factor}, carrying the fractions from minute to
     * minute so that the total is the rounded scaled total and no minute loses its share.
     */
    static int[] scale(int[] counts, double factor) {
        int[] out = new int[counts.length];
        if (factor == 1.0) {
            System.arraycopy(counts, 0, out, 0, counts.length);
            return out;
        }
        double carry = 0;
        for (int m = 0; m < counts.length; m++) {
            double want = counts[m] * factor + carry;
            int n = (int) Math.floor(want + 1e-9);
            out[m] = n;
            carry = want - n;
        }
        return out;
    }
}
