package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PercentileCurveTest {
    final PercentileCurve p = new PercentileCurve(new double[]{0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0},
            new double[]{10, 20, 30, 40, 50, 1000, 5000});

    @Test
    void interpolatesBetweenNeighbours() {
        assertEquals(10, p.at(0));
        assertEquals(40, p.at(0.5));
        assertEquals(45, p.at(0.625), 1e-9);
        assertEquals(5000, p.at(1.0));
    }

    @Test
    void drawsFallBetweenTheNeighbouringPercentilesInTheRightShares() {
        SplittableRandom rnd = new SplittableRandom(1);
        int n = 100_000;
        int belowMedian = 0;
        int tail = 0;
        for (int k = 0; k < n; k++) {
            double v = p.draw(rnd);
            assertTrue(v >= 10 && v <= 5000);
            if (v <= 40) {
                belowMedian++;
            }
            if (v > 1000) {
                tail++;
            }
        }
        assertEquals(0.5, belowMedian / (double) n, 0.01);
        assertEquals(0.01, tail / (double) n, 0.002);
    }

    @Test
    void flattensNonMonotoneTraceRows() {
        PercentileCurve q = new PercentileCurve(new double[]{0, 0.5, 1}, new double[]{5, 3, 9});
        assertEquals(5, q.at(0.5));
    }
}
