package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ArrivalsTest {

    @ParameterizedTest
    @EnumSource(Arrivals.Kind.class)
    void keepsEveryMinutesCountExactly(Arrivals.Kind kind) {
        int[] counts = {0, 1, 7, 60, 0, 1000, 3, 59};
        double[] at = Arrivals.series(counts, kind, new SplittableRandom(1));
        int[] seen = new int[counts.length];
        for (int k = 0; k < at.length; k++) {
            seen[(int) Math.floor(at[k] / 60.0)]++;
            if (k > 0) {
                assertTrue(at[k] >= at[k - 1], "arrivals must ascend");
            }
        }
        assertArrayEquals(counts, seen);
    }

    @ParameterizedTest
    @EnumSource(Arrivals.Kind.class)
    void sameSeedSameArrivals(Arrivals.Kind kind) {
        int[] counts = {5, 50, 500};
        double[] a = Arrivals.series(counts, kind, new SplittableRandom(42));
        double[] b = Arrivals.series(counts, kind, new SplittableRandom(42));
        assertArrayEquals(a, b);
        if (kind != Arrivals.Kind.EQUIDISTANT) {
            assertFalse(Arrays.equals(a, Arrivals.series(counts, kind, new SplittableRandom(43))));
        }
    }

    @Test
    void exponentialGapsHaveTheRightMeanAndSpread() {
        int n = 20_000;
        double[] at = new double[n];
        Arrivals.minute(n, Arrivals.Kind.EXPONENTIAL, new SplittableRandom(3), 0, at, 0);
        double[] gaps = new double[n];
        gaps[0] = at[0];
        for (int k = 1; k < n; k++) {
            gaps[k] = at[k] - at[k - 1];
        }
        double mean = Arrays.stream(gaps).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(gaps).map(g -> (g - mean) * (g - mean)).sum() / (n - 1));
        // n + 1 gaps fill the minute: the mean is 60/(n+1); an exponential's spread equals its mean.
        assertEquals(60.0 / (n + 1), mean, 60.0 / (n + 1) * 0.01);
        assertEquals(1.0, sd / mean, 0.05);
        assertTrue(at[n - 1] < 60.0);
    }

    @Test
    void equidistantIsEvenlySpaced() {
        double[] at = new double[4];
        Arrivals.minute(4, Arrivals.Kind.EQUIDISTANT, new SplittableRandom(0), 120, at, 0);
        assertArrayEquals(new double[]{120, 135, 150, 165}, at);
    }

    @Test
    void scalingCarriesFractionsSoTheTotalIsKept() {
        int[] counts = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        int[] half = Arrivals.scale(counts, 0.5);
        assertEquals(5, Arrays.stream(half).sum());
        int[] scaled = Arrivals.scale(new int[]{3, 7, 11}, 2.5);
        assertEquals(52, Arrays.stream(scaled).sum()); // 52.5 rounded down
        assertArrayEquals(new int[]{3, 7, 11}, Arrivals.scale(new int[]{3, 7, 11}, 1.0));
    }
}
