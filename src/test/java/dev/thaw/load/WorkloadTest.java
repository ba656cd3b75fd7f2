package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadTest {
    @TempDir
    Path dir;

    Path write(String json) throws IOException {
        Path f = dir.resolve("w.json");
        Files.writeString(f, json);
        return f;
    }

    String traceDir(String name) {
        return Fixtures.traces(name).toString().replace("\\", "/");
    }

    @Test
    void azure2019WithSpinMappingCompressesTimeAndCaps() throws IOException {
        Workload w = Workload.read(write("""
                {"seed": 1, "speed": 5, "mode": "faasnap",
                 "source": {"type": "azure2019", "dir": "%s", "start_minute": 0, "minutes": 10, "functions": 2},
                 "mapping": {"type": "spin", "max_duration_ms": 100, "max_memory_mib": 110}}
                """.formatted(traceDir("azure2019-example"))));
        assertEquals("faasnap", w.mode());
        Schedule s = w.schedule();
        assertEquals(2, s.functions.size());
        assertTrue(s.functions.stream().allMatch(f -> f.target().equals("spin") && f.event() == null));
        assertEquals(120_000_000_000L, s.spanNanos); // 10 minutes at speed 5
        for (int i = 0; i < s.size(); i++) {
            assertTrue(s.at[i] < s.spanNanos);
            assertTrue(s.durationMs[i] <= 100);
            assertTrue(s.memoryMib[i] <= 110);
        }
        // Same file, same seed: the same schedule.
        Schedule again = Workload.read(dir.resolve("w.json")).schedule();
        assertArrayEquals(s.at, again.at);
        assertArrayEquals(s.durationMs, again.durationMs);
    }

    @Test
    void rateScaleAndSpeedOverridesApply() throws IOException {
        Workload w = Workload.read(write("""
                {"source": {"type": "azure2019", "dir": "%s", "minutes": 60}}
                """.formatted(traceDir("azure2019-example"))));
        int full = w.schedule().size();
        Workload half = w.withOverrides(2.0, 0.5, "reap", 9L);
        Schedule s = half.schedule();
        assertEquals(full / 2, s.size(), 4); // each function rounds its own total down
        assertEquals(1_800_000_000_000L, s.spanNanos);
        assertEquals("reap", half.mode());
        assertNull(w.mode());
    }

    @Test
    void classesMappingPicksByMedianDuration() throws IOException {
        Workload w = Workload.read(write("""
                {"source": {"type": "azure2019", "dir": "%s"},
                 "mapping": {"type": "classes", "classes": [
                    {"max_duration_ms": 100, "function": "hello"},
                    {"max_duration_ms": 50000, "function": "json", "event": {"size": 10}},
                    {"function": "matmul", "event": {"n": 1100}}]}}
                """.formatted(traceDir("azure2019-extremes"))));
        Schedule s = w.schedule();
        for (LoadFunction f : s.functions) {
            String expected = f.medianDurationMs() <= 100 ? "hello" : f.medianDurationMs() <= 50000 ? "json" : "matmul";
            assertEquals(expected, f.target(), f.source() + " median " + f.medianDurationMs());
        }
        assertTrue(s.functions.stream().anyMatch(f -> f.target().equals("matmul") && f.event().equals("{\"n\":1100}")));
    }

    @Test
    void syntheticWithDirectMappingKeepsEvents() throws IOException {
        Workload w = Workload.read(write("""
                {"source": {"type": "synthetic", "duration": "10s",
                   "functions": [{"name": "a", "rate": 10, "arrival": "constant", "event": {"x": 1}},
                                 {"name": "b", "rate": 5, "duration_ms": 30, "memory_mib": 8}]},
                 "mapping": {"type": "direct"}}
                """));
        Schedule s = w.schedule();
        assertEquals("a", s.functions.get(0).target());
        assertEquals("{\"x\":1}", s.functions.get(0).event());
        assertNull(s.functions.get(1).event());
        long a = Stream.iterate(0, i -> i + 1).limit(s.size()).filter(i -> s.function[i] == 0).count();
        assertEquals(100, a);
    }

    @Test
    void azure2021ArrivalIsEndMinusDuration() throws IOException {
        Path csv = dir.resolve("t.csv");
        Files.writeString(csv, "app,func,end_timestamp,duration\nA,f1,10.5,0.5\nA,f1,3.0,1.0\nB,f2,70.0,5.0\n");
        Workload w = Workload.read(write("""
                {"source": {"type": "azure2021", "file": "t.csv", "memory_mib": 32}}
                """));
        Schedule s = w.schedule();
        assertEquals(3, s.size());
        // first arrival is at 2.0 (3.0 - 1.0): times count from there
        assertEquals(0L, s.at[0]);
        assertEquals(8_000_000_000L, s.at[1]);
        assertEquals(63_000_000_000L, s.at[2]);
        assertEquals(1000, s.durationMs[0]);
        assertEquals(5000, s.durationMs[2]);
        assertEquals(32, s.memoryMib[2]);
        assertEquals("f2", s.functions.get(s.function[2]).source());
    }

    @Test
    void azure2021SampleWindowAndSampling() {
        var source = new Azure2021Source(Fixtures.traces("azure2021").resolve("Azure2021_200.csv"), 0, 600, 5, 0);
        Source.Generated g = source.generate(1.0, 3);
        assertEquals(5, g.functions().size());
        assertEquals(600.0, g.windowSeconds());
        for (SourceFunction f : g.functions()) {
            for (double t : f.arrivals()) {
                assertTrue(t >= 0 && t < 600);
            }
        }
    }

    @Test
    void theExampleWorkloadsParseAndSchedule() throws IOException {
        Path examples = Path.of("examples/load");
        try (var files = Files.list(examples)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
                Schedule s = Workload.read(f).schedule();
                assertTrue(s.size() > 0, f + " has no invocations");
            }
        }
    }

    @Test
    void errorsNameTheFileTheFieldAndTheProblem() throws IOException {
        assertError("{\"source\": {\"type\": \"synthetic\", \"duration\": \"1m\", \"functions\": [{\"name\": \"a\"}]}}",
                "source.functions[0].rate: is required");
        assertError("{\"source\": {\"type\": \"azure2019\", \"dir\": \".\", \"minutse\": 3}}",
                "unknown field \"source.minutse\" in " + dir.resolve("w.json") + "; did you mean \"source.minutes\"?");
        assertError("{\"source\": {\"type\": \"nope\"}}", "source.type: 'nope' is not one of");
        assertError("{\"speed\": \"fast\", \"source\": {\"type\": \"synthetic\"}}", "speed: must be a number");
        assertError("{\"source\": {\"type\": \"synthetic\", \"duration\": \"soon\", \"functions\": []}}", "source.duration: 'soon' is not a duration");
        assertError("{\"source\": {\"type\": \"azure2019\", \"arrivals\": \"bursty\"}}", "source.arrivals: 'bursty' is not exponential");
        assertError("{\"source\": {\"type\": \"synthetic\", \"duration\": 5, \"functions\": [{\"name\": \"a\", \"rate\": 1}]},"
                + " \"mapping\": {\"type\": \"classes\", \"classes\": [{\"function\": \"x\"}, {\"function\": \"y\"}]}}",
                "mapping.classes[0].max_duration_ms: is required on every class but the last");
        assertError("{not json", "malformed JSON");
    }

    @Test
    void unknownFieldsWrongTypesAndRangesAreErrors() throws IOException {
        String file = dir.resolve("w.json").toString();
        String synthetic = "\"source\": {\"type\": \"synthetic\", \"duration\": \"1m\", \"functions\": [{\"name\": \"a\", \"rate\": 1}]}";
        assertError("{\"sped\": 2, " + synthetic + "}", "unknown field \"sped\" in " + file + "; did you mean \"speed\"?");
        assertError("{\"source\": {\"type\": \"synthetic\", \"duration\": \"1m\", \"functions\": [{\"name\": \"a\", \"rat\": 1}]}}",
                "unknown field \"source.functions[0].rat\" in " + file + "; did you mean \"source.functions[0].rate\"?");
        assertError("{\"mapping\": {\"type\": \"spin\", \"max_duration\": 5}, " + synthetic + "}",
                "unknown field \"mapping.max_duration\" in " + file + "; did you mean \"mapping.max_duration_ms\"?");
        assertError("{\"seed\": \"seven\", " + synthetic + "}", file + ": seed: must be a whole number, got \"seven\" (a string)");
        assertError("{\"mapping\": {\"type\": \"spin\", \"max_memory_mib\": 1.5}, " + synthetic + "}",
                file + ": mapping.max_memory_mib: must be a whole number, got 1.5 (a number)");
        assertError("{\"source\": {\"type\": \"synthetic\", \"duration\": \"1m\", \"functions\": {\"name\": \"a\"}}}",
                file + ": source.functions: must be an array, got {\"name\":\"a\"} (an object)");
        assertError("{\"speed\": 0, " + synthetic + "}", file + ": speed: 0.0 is outside [1.0E-6, 1000000.0]");
        assertError("{\"rate_scale\": -1, " + synthetic + "}", file + ": rate_scale: -1.0 is outside [0.0, 1000000.0]");
        assertError("{\"mode\": \"fasnap\", " + synthetic + "}",
                file + ": mode: 'fasnap' is not one of cold, warm, vanilla, cached, reap, faasnap; did you mean 'faasnap'?");
        assertError("{\"source\": {\"type\": \"synthtic\"}}", "source.type: 'synthtic' is not one of azure2019, azure2021, synthetic; did you mean 'synthetic'?");
        assertError("[1]", file + ": (top level): must be a JSON object, got [1] (an array)");
    }

    private void assertError(String json, String expected) throws IOException {
        Path f = write(json);
        var e = assertThrows(WorkloadException.class, () -> Workload.read(f).schedule());
        assertTrue(e.getMessage().startsWith(f.toString()) || e.getMessage().contains(f.getFileName().toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void dryRunCountsPerMinuteAndPeak() throws IOException {
        Workload w = Workload.read(write("""
                {"source": {"type": "synthetic", "duration": "2m",
                   "functions": [{"name": "a", "rate": 10, "arrival": "constant"}],
                   "bursts": [{"start": "60s", "duration": "1s", "multiplier": 3}]}}
                """));
        DryRun d = new DryRun(w.schedule());
        assertArrayEquals(new long[]{600, 620}, d.perMinute);
        assertEquals(30, d.peakPerSecond);
    }
}
