package dev.thaw.sim;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The cluster simulator: deterministic for a seed, and the policies differ the way their rules say they must. */
class SimTest {
    static final Path TRACE = Path.of("/work/shared/traces/azure2019-example");

    Path bench() throws IOException {
        Path f = Files.createTempFile("bench", ".json");
        Files.writeString(f, """
                {"results": [
                  {"experiment": "modes", "function": "hello", "mode": "warm", "parallelism": 1, "total_ms": {"median": 12}, "phases_ms": {"guest_exec": 2}},
                  {"experiment": "modes", "function": "hello", "mode": "faasnap", "parallelism": 1, "total_ms": {"median": 302}, "phases_ms": {"guest_exec": 2}}
                ]}""");
        return f;
    }

    Sim.Options options(long seed) throws IOException {
        return new Sim.Options(TRACE, 0, 5, 20, 50, 4096, 32, List.of("locality", "random", "least-loaded"), List.of(60.0),
                bench(), "hello", "faasnap", 1000, seed);
    }

    static List<Simulator.Result> run(Sim.Options o, ByteArrayOutputStream out) throws IOException {
        return Sim.run(o, new PrintStream(out, true));
    }

    @Test
    void theSameSeedGivesTheSameAnswerAndAnotherSeedAnother() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(TRACE), "sample trace not here: " + TRACE);
        ByteArrayOutputStream a = new ByteArrayOutputStream(), b = new ByteArrayOutputStream(), c = new ByteArrayOutputStream();
        assertEquals(run(options(3), a), run(options(3), b));
        assertEquals(a.toString(), b.toString());
        assertNotEquals(run(options(3), new ByteArrayOutputStream()), run(options(4), c));
    }

    @Test
    void localityColdStartsLessThanRandomAndCostsComeFromTheBench() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(TRACE), "sample trace not here: " + TRACE);
        List<Simulator.Result> r = run(options(1), new ByteArrayOutputStream());
        Simulator.Result locality = r.get(0), random = r.get(1);
        assertEquals(locality.invocations(), random.invocations());
        assertTrue(locality.coldShare() < random.coldShare() / 2, locality + " vs " + random);
        assertTrue(locality.meanMemoryGib() < random.meanMemoryGib(), "fewer instances kept: " + locality + " vs " + random);
        assertEquals(10.0, Sim.costs(bench(), "hello", "faasnap", 1000).warmMs(), 1e-9);
        assertEquals(300.0, Sim.costs(bench(), "hello", "faasnap", 1000).restoreMs(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Sim.costs(bench(), "json", "faasnap", 1000));
    }
}
