package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Azure2019TraceTest {

    static Azure2019Trace load(Path dir) {
        return Azure2019Trace.load(dir.resolve("invocations.csv"), dir.resolve("durations.csv"), dir.resolve("memory.csv"));
    }

    @Test
    void parsesTheExampleTrace() {
        Azure2019Trace t = load(Fixtures.traces("azure2019-example"));
        assertEquals(1440, t.minutes());
        assertEquals("1", t.minuteLabels()[0]);
        assertEquals(4, t.functions().size());
        Azure2019Trace.Function f = t.functions().getFirst();
        assertEquals("queue", f.trigger());
        assertTrue(f.function().startsWith("c13acdc7567b"));
        assertEquals(1150, Arrays.stream(f.counts()).sum());
        // durations.csv row: percentiles 0,1,25,50,75,99,100 = 99,99,99,100,101,101,101
        assertArrayEquals(new double[]{99, 99, 99, 100, 101, 101, 101}, f.duration().values());
        assertEquals(100.0, f.duration().median());
        // memory.csv row (by app): pct1..pct100 = 100,102,114,123,127,136,143,152
        assertNotNull(f.memory());
        assertEquals(123.0, f.memory().median());
        assertEquals(0, t.withoutDurations());
    }

    @Test
    void findsColumnsByNameWhateverTheirOrder() {
        // azure2019-extremes has minute columns 540..689 and memory.csv starts with HashFunction.
        Azure2019Trace t = load(Fixtures.traces("azure2019-extremes"));
        assertEquals(150, t.minutes());
        assertEquals("540", t.minuteLabels()[0]);
        assertEquals(3, t.functions().size());
        int[] totals = t.functions().stream().mapToInt(f -> Arrays.stream(f.counts()).sum()).toArray();
        assertArrayEquals(new int[]{1, 1, 46}, totals);
        assertTrue(t.functions().stream().allMatch(f -> f.memory() != null));
        assertEquals(93192.0, t.functions().getFirst().duration().median());
    }

    @Test
    void leavesOutFunctionsWithoutDurationsAndSaysSo(@TempDir Path dir) throws IOException {
        Path src = Fixtures.traces("azure2019-example");
        Files.copy(src.resolve("invocations.csv"), dir.resolve("invocations.csv"));
        Files.copy(src.resolve("memory.csv"), dir.resolve("memory.csv"));
        var lines = Files.readAllLines(src.resolve("durations.csv"));
        Files.write(dir.resolve("durations.csv"), lines.subList(0, 3)); // header + 2 functions
        Azure2019Trace t = load(dir);
        assertEquals(2, t.functions().size());
        assertEquals(2, t.withoutDurations());
    }

    @Test
    void namesTheFileAndColumnWhenAColumnIsMissing(@TempDir Path dir) throws IOException {
        Path src = Fixtures.traces("azure2019-example");
        Files.copy(src.resolve("invocations.csv"), dir.resolve("invocations.csv"));
        Files.copy(src.resolve("memory.csv"), dir.resolve("memory.csv"));
        Files.writeString(dir.resolve("durations.csv"), "HashOwner,HashApp,HashFunction,Average\na,b,c,1\n");
        var e = assertThrows(WorkloadException.class, () -> load(dir));
        assertTrue(e.getMessage().contains("durations.csv"), e.getMessage());
        assertTrue(e.getMessage().contains("percentile_Average_0"), e.getMessage());
    }

    @Test
    void namesTheRowOfAMalformedCount(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("invocations.csv"), "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,3,x\n");
        Files.writeString(dir.resolve("durations.csv"), "HashOwner,HashApp,HashFunction,percentile_Average_0,percentile_Average_1,"
                + "percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n"
                + "o,a,f,1,2,3,4,5,6,7\n");
        var e = assertThrows(WorkloadException.class,
                () -> Azure2019Trace.load(dir.resolve("invocations.csv"), dir.resolve("durations.csv"), null));
        assertTrue(e.getMessage().contains("invocations.csv: row 2, column '2': 'x' is not a number"), e.getMessage());
    }

    @Test
    void sourceDrawsDurationsBetweenNeighbouringPercentilesAndMemoryByApp() {
        Path dir = Fixtures.traces("azure2019-example");
        var source = new Azure2019Source(dir.resolve("invocations.csv"), dir.resolve("durations.csv"),
                dir.resolve("memory.csv"), 0, 60, 0, Arrivals.Kind.EXPONENTIAL);
        Source.Generated g = source.generate(1.0, 7);
        assertEquals(4, g.functions().size());
        assertEquals(3600.0, g.windowSeconds());
        SourceFunction f = g.functions().getFirst();
        for (int k = 0; k < f.count(); k++) {
            assertTrue(f.durationMs()[k] >= 99 && f.durationMs()[k] <= 101, "duration " + f.durationMs()[k]);
            assertTrue(f.memoryMib()[k] >= 100 && f.memoryMib()[k] <= 152, "memory " + f.memoryMib()[k]);
            assertTrue(f.arrivals()[k] >= 0 && f.arrivals()[k] < 3600);
        }
        // The first hour's counts are kept exactly, minute by minute.
        Azure2019Trace t = load(dir);
        int[] perMinute = new int[60];
        for (double a : f.arrivals()) {
            perMinute[(int) (a / 60)]++;
        }
        assertArrayEquals(Arrays.copyOfRange(t.functions().getFirst().counts(), 0, 60), perMinute);
    }

    @Test
    void windowPastTheTraceIsAnError() {
        Path dir = Fixtures.traces("azure2019-extremes");
        var source = new Azure2019Source(dir.resolve("invocations.csv"), dir.resolve("durations.csv"),
                dir.resolve("memory.csv"), 100, 60, 0, Arrivals.Kind.EXPONENTIAL);
        var e = assertThrows(WorkloadException.class, () -> source.generate(1, 1));
        assertTrue(e.getMessage().contains("runs past the trace's 150 minutes"), e.getMessage());
    }
}
