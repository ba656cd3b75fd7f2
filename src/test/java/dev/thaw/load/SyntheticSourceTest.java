package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticSourceTest {

    static SyntheticSource.Fn fn(String name, double rate, SyntheticSource.Process p) {
        return new SyntheticSource.Fn(name, rate, p, 10, 0, null);
    }

    @Test
    void constantRateGivesExactCountsAndSpacing() {
        var s = new SyntheticSource(10, List.of(fn("a", 100, SyntheticSource.Process.CONSTANT)), List.of());
        double[] at = s.generate(1, 1).functions().getFirst().arrivals();
        assertEquals(1000, at.length);
        assertEquals(0.01, at[1] - at[0], 1e-9);
    }

    @Test
    void poissonRateIsRightOnAverage() {
        var s = new SyntheticSource(100, List.of(fn("a", 200, SyntheticSource.Process.POISSON)), List.of());
        int n = s.generate(1, 5).functions().getFirst().count();
        assertEquals(20_000, n, 4 * Math.sqrt(20_000));
    }

    @Test
    void burstMultipliesOnlyItsFunctionsAndWindow() {
        var burst = new SyntheticSource.Burst(10, 5, 4, List.of("a"));
        var s = new SyntheticSource(20, List.of(fn("a", 10, SyntheticSource.Process.CONSTANT),
                fn("b", 10, SyntheticSource.Process.CONSTANT)), List.of(burst));
        var g = s.generate(1, 1);
        double[] a = g.functions().get(0).arrivals();
        long inBurst = java.util.Arrays.stream(a).filter(t -> t >= 10 && t < 15).count();
        assertEquals(200, inBurst);
        assertEquals(15 * 10 + 200, a.length);
        assertEquals(200, g.functions().get(1).count());
    }

    @Test
    void rateScaleScalesAndSeedReproduces() {
        var s = new SyntheticSource(50, List.of(fn("a", 100, SyntheticSource.Process.POISSON)), List.of());
        double[] x = s.generate(0.5, 9).functions().getFirst().arrivals();
        double[] y = s.generate(0.5, 9).functions().getFirst().arrivals();
        assertEquals(2500, x.length, 250);
        assertTrue(java.util.Arrays.equals(x, y));
    }
}
