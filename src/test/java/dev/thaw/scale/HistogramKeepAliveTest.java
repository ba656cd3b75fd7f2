package dev.thaw.scale;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HistogramKeepAliveTest {
    final Duration fixed = Duration.ofMinutes(10);
    final HistogramKeepAlive policy = new HistogramKeepAlive(HistogramKeepAlive.Settings.PAPER, fixed);

    @Test
    void tooFewIdleTimesFallBackToTheFixedKeepAlive() {
        for (int i = 0; i < 9; i++) policy.observeIdle("f", Duration.ofMinutes(30));
        var w = policy.windows("f");
        assertEquals(Duration.ZERO, w.prewarm());
        assertEquals(fixed, w.keepAlive());
        assertTrue(w.basis().startsWith("fallback"), w.basis());
        assertEquals(fixed, policy.windows("never-seen").keepAlive());
    }

    @Test
    void aFunctionCalledEvery30MinutesIsStoppedInBetweenAndPrewarmedBeforeTheNextCall() {
        for (int i = 0; i < 20; i++) policy.observeIdle("f", Duration.ofMinutes(30).plusSeconds(i)); // bin 30
        var w = policy.windows("f");
        assertEquals("histogram", w.basis());
        assertEquals(Duration.ofMinutes(27), w.prewarm(), "5th percentile bin start (30 min) minus 10%");
        // 99th percentile bin end (31 min) plus 10% = 34.1 min, less the pre-warm window
        assertEquals(Duration.ofSeconds((long) (31 * 60 * 1.1) - 27 * 60), w.keepAlive());
    }

    @Test
    void aFrequentFunctionIsKeptFromItsLastCallForItsTail() {
        for (int i = 0; i < 50; i++) policy.observeIdle("f", Duration.ofSeconds(5 + i % 40)); // all in bin 0
        var w = policy.windows("f");
        assertEquals(Duration.ZERO, w.prewarm());
        assertEquals(Duration.ofSeconds(66), w.keepAlive(), "bin 0's end (1 min) + 10%: far less than 10 min");
    }

    @Test
    void idleTimesSpreadEvenlyAreNotRepresentative() {
        HistogramKeepAlive p = new HistogramKeepAlive(HistogramKeepAlive.Settings.PAPER.withBin(Duration.ofSeconds(1)), fixed);
        for (int i = 0; i < 240 * 3; i++) p.observeIdle("f", Duration.ofMillis(i * 333L)); // 3 per bin everywhere
        assertTrue(p.windows("f").basis().contains("not representative"), p.windows("f").basis());
    }

    @Test
    void idleTimesMostlyBeyondTheRangeFallBack() {
        for (int i = 0; i < 20; i++) policy.observeIdle("f", Duration.ofHours(i < 15 ? 5 : 0));
        assertTrue(policy.windows("f").basis().contains("beyond the range"));
    }

    @Test
    void thePolicyNameIsParsedStrictly() {
        assertEquals("fixed", KeepAlivePolicy.parse("fixed", fixed, HistogramKeepAlive.Settings.PAPER).name());
        assertEquals("histogram", KeepAlivePolicy.parse("histogram", fixed, HistogramKeepAlive.Settings.PAPER).name());
        assertThrows(IllegalArgumentException.class, () -> KeepAlivePolicy.parse("Histogram", fixed, HistogramKeepAlive.Settings.PAPER));
    }

    @Test
    void percentilesAreNearestRankOverBins() {
        IdleHistogram h = new IdleHistogram(10, 10);
        for (int v : new int[]{1, 2, 15, 15, 95}) h.add(v);
        assertEquals(0, h.percentileBin(5));
        assertEquals(1, h.percentileBin(60));
        assertEquals(9, h.percentileBin(99));
        h.add(1000);
        assertEquals(1, h.outOfRange());
    }
}
