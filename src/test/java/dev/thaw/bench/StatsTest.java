package dev.thaw.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StatsTest {
    @Test
    void medianIsTheNearestRankAndMinMaxTheEnds() {
        assertEquals(new Stats(2, 1, 9), Stats.of(List.of(9.0, 1.0, 2.0)));
        assertEquals(new Stats(2, 1, 4), Stats.of(List.of(4.0, 1.0, 2.0, 3.0)), "even count: the lower middle value");
        assertTrue(Double.isNaN(Stats.of(List.of()).median()));
    }
}
