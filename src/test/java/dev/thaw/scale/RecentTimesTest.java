package dev.thaw.scale;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RecentTimesTest {
    @Test
    void theMeanAndQuantilesCoverTheNewestSamplesOnly() {
        RecentTimes t = new RecentTimes(10, 100);
        assertEquals(100, t.meanMs());
        assertEquals(100, t.quantileMs(0.9), "the prior until a sample arrives");
        for (int i = 1; i <= 9; i++) t.add(10);
        t.add(200); // one stall in ten
        assertEquals(29, t.meanMs(), 1e-9, "the mean hides it");
        assertEquals(10, t.quantileMs(0.9), 1e-9, "nearest rank: the 9th of 10");
        assertEquals(200, t.quantileMs(0.95), 1e-9);
        for (int i = 0; i < 9; i++) t.add(10); // the stall drops out of the ring
        t.add(10);
        assertEquals(10, t.quantileMs(1.0), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> t.quantileMs(0));
    }
}
