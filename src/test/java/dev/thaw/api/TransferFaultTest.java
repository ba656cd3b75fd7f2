package dev.thaw.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The testing-only transfer corruption: off unless asked, strict about what it is asked, and spent after one answer. */
class TransferFaultTest {
    @Test
    void absentMeansOff() {
        assertNull(TransferFault.parse(null));
    }

    @Test
    void malformedValuesAreRefused() {
        for (String bad : new String[]{"", "n4", "n4:", ":memory", "n4:memory:1", "n 4:memory", "n4:../x"}) {
            assertThrows(IllegalArgumentException.class, () -> TransferFault.parse(bad), bad);
        }
    }

    @Test
    void flipsOneByteOfTheFirstMatchingAnswerOnly() {
        TransferFault f = TransferFault.parse("n4:memory.sparse");
        byte[] body = new byte[8];
        assertFalse(f.apply("n3", "memory.sparse", body), "another fetcher");
        assertFalse(f.apply("n4", "vmstate", body), "another file");
        assertFalse(f.apply(null, "memory.sparse", body), "an unnamed fetcher");
        assertArrayEquals(new byte[8], body);
        assertTrue(f.apply("n4", "memory.sparse", body));
        assertEquals(1, countNonZero(body));
        byte[] again = new byte[8];
        assertFalse(f.apply("n4", "memory.sparse", again), "once per process");
        assertEquals(0, countNonZero(again));
    }

    private static int countNonZero(byte[] b) {
        int n = 0;
        for (byte x : b) if (x != 0) n++;
        return n;
    }
}
