package dev.thaw.vm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryWatchdogTest {
    static final long LIMIT = 160L << 20;

    @Test
    void aVmIsKilledOnlyAfterItsAnonymousMemoryStaysAtTheLimit() {
        MemoryWatchdog.Watch w = new MemoryWatchdog.Watch(LIMIT);
        assertFalse(w.observe(150L << 20));
        assertFalse(w.observe(157L << 20));
        assertFalse(w.observe(90L << 20), "a reading below the margin starts the count again");
        assertFalse(w.observe(157L << 20));
        assertFalse(w.observe(158L << 20));
        assertTrue(w.observe(157L << 20));
    }

    @Test
    void pageCacheIsNotCounted(@TempDir Path group) throws Exception {
        Files.writeString(group.resolve("memory.stat"), "cache 150000000\nrss 4096\nrss_huge 0\n");
        assertEquals(4096, MemoryWatchdog.anonBytes(group));
        Files.writeString(group.resolve("memory.stat"), "anon 8192\nfile 150000000\n");
        assertEquals(8192, MemoryWatchdog.anonBytes(group));
        assertEquals(-1, MemoryWatchdog.anonBytes(group.resolve("gone")));
    }
}
