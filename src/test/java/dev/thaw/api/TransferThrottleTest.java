package dev.thaw.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The testing-only transfer throttle: off unless asked, strict about what it is asked, and only for the peer named. */
class TransferThrottleTest {
    @Test
    void absentMeansOff() {
        assertNull(TransferThrottle.parse(null));
    }

    @Test
    void malformedValuesAreRefused() {
        for (String bad : new String[]{"", "n4", "n4:", ":8", "n4:0", "n4:-1", "n4:8:1", "n 4:8", "n4:fast", "n4:100000"}) {
            assertThrows(IllegalArgumentException.class, () -> TransferThrottle.parse(bad), bad);
        }
    }

    @Test
    void delaysAnswersToTheNamedPeerBySizeOnly() {
        TransferThrottle t = TransferThrottle.parse("n4:8");
        assertEquals(1000, t.delayMs("n4", 8 << 20), "8 MiB at 8 MiB/s");
        assertEquals(125, t.delayMs("n4", 1 << 20));
        assertEquals(0, t.delayMs("n3", 8 << 20), "another fetcher");
        assertEquals(0, t.delayMs(null, 8 << 20), "an unnamed fetcher");
    }
}
