package dev.thaw.cli;

import dev.thaw.memory.PageRun;
import dev.thaw.memory.Runs;
import dev.thaw.memory.Scratch;
import dev.thaw.memory.ZeroPages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryCommandTest {
    private final Scratch scratch = new Scratch();

    @AfterEach
    void cleanUp() throws IOException {
        scratch.close();
    }

    private record Result(int exit, String out, String err) {}

    private static Result thaw(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(stdout, true));
            System.setErr(new PrintStream(stderr, true));
            int exit = Main.run(args);
            return new Result(exit, stdout.toString(), stderr.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void zerosPunchReportsAndFreesTheZeroPages() throws IOException {
        byte[] bytes = new byte[16 * Scratch.PAGE];
        bytes[5] = 1; // page 0 non-zero, pages 1..15 zero
        Path file = scratch.write("mem", bytes);
        Result r = thaw("memory", "zeros", "--punch", file.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("15 pages (0.1 MiB) of 16 pages (0.1 MiB) are zero, in 1 runs"), r.out());
        assertTrue(r.out().contains("punched 1 runs"), r.out());
        assertEquals(Runs.toBitSet(java.util.List.of(new PageRun(0, 1))), ZeroPages.allocatedPages(file));
    }

    @Test
    void dropAndResidentReportPageCounts() throws IOException {
        Path file = scratch.randomFile("mem", 8, 41);
        Result drop = thaw("memory", "drop", file.toString());
        assertEquals(0, drop.exit(), drop.err());
        assertTrue(drop.out().endsWith("resident 8 pages (0.0 MiB) -> 0 pages (0.0 MiB)\n"), drop.out());
        Result resident = thaw("memory", "resident", file.toString());
        assertTrue(resident.out().contains(": 0 pages (0.0 MiB) of 8 pages"), resident.out());
    }

    @Test
    void missingFileIsOneLineOnStderrAndExitOne() {
        Path missing = scratch.dir().resolve("nope");
        Result r = thaw("memory", "zeros", missing.toString());
        assertEquals(1, r.exit());
        assertEquals("thaw memory zeros: open(" + missing + "): ENOENT (No such file or directory)\n", r.err());
    }

    @Test
    void badMinRunIsRejected() throws IOException {
        Path file = scratch.randomFile("mem", 1, 42);
        Result r = thaw("memory", "zeros", "--punch", "--min-run", "0", file.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--min-run must be at least 1"), r.err());
    }
}
