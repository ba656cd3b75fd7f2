package dev.thaw.scale;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AutoscalerTest {
    static final long S = 1_000_000_000L;

    @Test
    void steadyConcurrencyWantsItOverTheTarget() {
        Autoscaler a = new Autoscaler(Autoscaler.Settings.DEFAULT);
        for (int t = 1; t <= 60; t++) a.sample(t * S, 1.6);
        assertEquals(2, a.desired(60 * S, 2, 1.0));
        assertFalse(a.panicking());
        assertEquals(4, a.desired(60 * S, 4, 0.5), "a lower target leaves headroom");
        assertFalse(a.panicking());
    }

    @Test
    void aRisingRateTriggersPanicAndScalesAheadOfTheStableWindow() {
        Autoscaler a = new Autoscaler(Autoscaler.Settings.DEFAULT);
        for (int t = 1; t <= 54; t++) a.sample(t * S, 1);
        for (int t = 55; t <= 60; t++) a.sample(t * S, 6); // the last 6 s: six times the load
        // stable: (54 + 36) / 60 = 1.5 → 2; panic: 6 → 6 ≥ 2 × 1 ready
        assertEquals(6, a.desired(60 * S, 1, 1.0));
        assertTrue(a.panicking());
    }

    @Test
    void inPanicItDoesNotScaleDownUntilAStableWindowPassesThenItDoes() {
        Autoscaler a = new Autoscaler(Autoscaler.Settings.DEFAULT);
        for (int t = 1; t <= 6; t++) a.sample(t * S, 8);
        assertEquals(8, a.desired(6 * S, 2, 1.0));
        for (int t = 7; t <= 30; t++) a.sample(t * S, 0); // a lull inside the burst
        assertEquals(8, a.desired(30 * S, 8, 1.0), "no scale-down while panicking");
        for (int t = 31; t <= 130; t++) a.sample(t * S, 0);
        assertEquals(0, a.desired(130 * S, 8, 1.0), "after a stable window of idleness it scales to zero");
        assertFalse(a.panicking());
    }

    @Test
    void theMeterAveragesOverTime() {
        ConcurrencyMeter m = new ConcurrencyMeter(0);
        m.change(0, +1);
        m.change(S / 2, +1); // 2 in flight for the second half
        assertEquals(1.5, m.sample(S), 1e-9);
        m.change(S, -2);
        assertEquals(0, m.sample(2 * S), 1e-9);
    }

    @Test
    void restoreSlotsAreBoundedAndOnePerTwoCores() {
        assertEquals(1, RestoreSlots.forCores(2));
        assertEquals(1, RestoreSlots.forCores(1));
        assertEquals(4, RestoreSlots.forCores(8));
        RestoreSlots s = new RestoreSlots(1);
        assertTrue(s.tryAcquire());
        assertFalse(s.tryAcquire());
        s.release();
        assertTrue(s.free());
    }
}
