package dev.thaw.common;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class PercentilesTest {
    @Test
    void theMedianOfAnOddCountIsTheMiddleValue() {
        assertEquals(2, Percentiles.median(List.of(9.0, 1.0, 2.0)));
        assertEquals(OptionalLong.of(30), Percentiles.of(new long[]{50, 10, 30, 20, 40}, 50));
    }

    @Test
    void theMedianOfAnEvenCountIsTheLowerMiddleValueNotTheirMean() {
        assertEquals(2, Percentiles.median(List.of(4.0, 1.0, 2.0, 3.0)));
        assertEquals(OptionalLong.of(100), Percentiles.of(new long[]{200, 100}, 50));
    }

    @Test
    void p0IsTheMinimumAndP100TheMaximum() {
        double[] v = {7, 3, 9, 1, 5};
        assertEquals(1, Percentiles.of(v, 0));
        assertEquals(9, Percentiles.of(v, 100));
        assertEquals(1, Percentiles.of(v, 0.001), "any p up to 1/n is the first value");
        assertEquals(9, Percentiles.of(v, 80.001), "just past 4/5 is the fifth value");
        assertEquals(7, Percentiles.of(v, 80), "exactly 4/5 is the fourth");
    }

    @Test
    void aSingleValueIsEveryPercentile() {
        for (double p : new double[]{0, 1, 50, 99.9, 100}) {
            assertEquals(42, Percentiles.of(new double[]{42}, p));
            assertEquals(OptionalLong.of(42), Percentiles.of(new long[]{42}, p));
        }
    }

    @Test
    void noValuesHaveNoPercentile() {
        assertTrue(Double.isNaN(Percentiles.of(new double[0], 50)));
        assertTrue(Double.isNaN(Percentiles.median(List.of())));
        assertEquals(OptionalLong.empty(), Percentiles.of(new long[0], 99));
    }

    @Test
    void aRankThatIsAnIntegerInDecimalIsNotPushedUpByBinaryRounding() {
        long[] hundred = new long[100];
        for (int i = 0; i < 100; i++) hundred[i] = i + 1;
        assertEquals(OptionalLong.of(99), Percentiles.of(hundred, 99), "0.99 × 100 is 99.00000000000001 in doubles");
        assertEquals(OptionalLong.of(29), Percentiles.of(hundred, 29));
        long[] thousand = new long[1000];
        for (int i = 0; i < 1000; i++) thousand[i] = i + 1;
        assertEquals(OptionalLong.of(999), Percentiles.of(thousand, 99.9));
        assertEquals(OptionalLong.of(1), Percentiles.of(thousand, 0.1));
    }

    @Test
    void theInputIsNotReordered() {
        double[] v = {3, 1, 2};
        Percentiles.of(v, 50);
        assertArrayEquals(new double[]{3, 1, 2}, v);
    }

    @Test
    void aPercentileOutsideZeroToHundredIsAnError() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Percentiles.of(new double[]{1}, 101)).getMessage()
                .contains("within [0, 100], got 101"));
        assertThrows(IllegalArgumentException.class, () -> Percentiles.of(new long[]{1}, -1));
        assertThrows(IllegalArgumentException.class, () -> Percentiles.of(new double[0], Double.NaN), "even with no values");
    }

    /** The load generator's HdrHistogram percentiles are the same nearest rank as the exact code's. */
    @Test
    void hdrHistogramAgreesOnIntegerData() {
        double[] ps = {0, 0.1, 1, 10, 25, 33.3, 50, 66.7, 75, 90, 99, 99.9, 99.99, 100};
        SplittableRandom rnd = new SplittableRandom(7);
        for (int n : new int[]{1, 2, 3, 4, 5, 10, 99, 100, 101, 1000, 1001, 4096}) {
            for (long bound : new long[]{10, 2048, 5_000_000}) {
                long[] values = new long[n];
                Histogram h = new Histogram(3_600_000_000L, 3);
                for (int i = 0; i < n; i++) {
                    values[i] = rnd.nextLong(bound);
                    h.recordValue(values[i]);
                }
                for (double p : ps) {
                    long exact = Percentiles.of(values, p).orElseThrow();
                    // The histogram answers the edge of the bucket holding the value: the value itself below 2048.
                    long expected = p == 0 ? h.lowestEquivalentValue(exact) : h.highestEquivalentValue(exact);
                    assertEquals(expected, h.getValueAtPercentile(p), "n=" + n + " bound=" + bound + " p" + p);
                    if (bound <= 2048) assertEquals(exact, h.getValueAtPercentile(p), "exact below 2048: n=" + n + " p" + p);
                }
            }
        }
    }
}
