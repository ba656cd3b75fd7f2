package dev.thaw.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Against a temporary file standing in for /sys/block/DEV/queue/read_ahead_kb. */
class ReadAheadTest {
    @Test
    void setsTheValueAndRestoresItOnClose(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("read_ahead_kb");
        Files.writeString(f, "8192\n");
        try (ReadAhead r = ReadAhead.set(f, 128)) {
            assertEquals("128", Files.readString(f).strip());
            assertEquals(new ReadAhead.Setting(f.toString(), 128, 8192), r.setting());
        }
        assertEquals("8192", Files.readString(f).strip());
    }

    @Test
    void theShutdownHookRestoresWhenTheJvmExitsFirstAndCloseThenDoesNothing(@TempDir Path dir) throws IOException, InterruptedException {
        Path f = dir.resolve("read_ahead_kb");
        Files.writeString(f, "4096\n");
        ReadAhead r = ReadAhead.set(f, 16);
        Thread hook = r.hook();
        hook.start(); // what the JVM does on Ctrl-C
        hook.join();
        assertEquals("4096", Files.readString(f).strip());
        Files.writeString(f, "999\n"); // someone changes it afterwards: close must not write again
        r.close();
        assertEquals("999", Files.readString(f).strip());
    }

    @Test
    void closeUnregistersTheHook(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("read_ahead_kb");
        Files.writeString(f, "256\n");
        ReadAhead r = ReadAhead.set(f, 512);
        assertTrue(Runtime.getRuntime().removeShutdownHook(r.hook()), "set() registers a shutdown hook");
        Runtime.getRuntime().addShutdownHook(r.hook());
        r.close();
        assertFalse(Runtime.getRuntime().removeShutdownHook(r.hook()), "close() must remove its shutdown hook");
    }

    @Test
    void rejectsGarbageAndMissingFiles(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("read_ahead_kb");
        Files.writeString(f, "lots\n");
        assertTrue(assertThrows(IOException.class, () -> ReadAhead.set(f, 128)).getMessage().contains("does not hold a number"));
        assertEquals("lots", Files.readString(f).strip());
        assertThrows(IOException.class, () -> ReadAhead.set(dir.resolve("missing"), 128));
        assertThrows(IllegalArgumentException.class, () -> ReadAhead.set(f, -1));
    }
}
