package dev.thaw.bench;

import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BenchResultTest {
    @Test
    void summarisesTimingAndMemoryMediansOverAllInvocationsOfAllRuns() {
        // parallelism 2, two runs: four invocations
        List<Invocation> cell = List.of(
                Answers.ok("vanilla", 2, 1, 1, Answers.restore("vanilla", 100, 10, 4096, 100, 80)),
                Answers.ok("vanilla", 2, 1, 2, Answers.restore("vanilla", 300, 30, 8192, 300, 90)),
                Answers.ok("vanilla", 2, 2, 1, Answers.restore("vanilla", 200, 20, 12288, 200, 70)),
                Answers.ok("vanilla", 2, 2, 2, Answers.restore("vanilla", 400, 40, 16384, 400, 60)));
        BenchResult r = BenchResult.of(cell);
        assertEquals("hello", r.function());
        assertEquals("vanilla", r.mode());
        assertEquals("test", r.input());
        assertEquals(2, r.parallelism());
        assertEquals(2, r.runs());
        assertEquals(4, r.invocations());
        assertEquals(0, r.errors());
        // Medians are nearest rank: of an even count, the lower middle value.
        assertEquals(new Stats(200, 100, 400), r.totalMs());
        assertEquals(60.0, r.phasesMs().get("vmm_start"), 1e-9); // median of 30, 90, 60, 120
        assertEquals(List.of("vmm_start", "state_load", "resume", "guest_exec", "host_overhead"), List.copyOf(r.phasesMs().keySet()));
        assertEquals(20, r.memoryMedian("major_faults"));
        assertEquals(8192, r.memoryMedian("disk_read_bytes"));
        assertEquals(200, r.memoryMedian("working_set_pages"));
        assertEquals(70, r.memoryMedian("loading_set_pages"));
        assertEquals(List.of("major_faults", "disk_read_bytes", "working_set_pages", "loading_set_pages"), List.copyOf(r.memory().keySet()));
        assertTrue(r.warnings().isEmpty());
    }

    @Test
    void failuresAreCountedButLeftOutOfTheStatistics() {
        BenchResult r = BenchResult.of(List.of(
                Answers.ok("vanilla", 1, 1, 1, Answers.restore("vanilla", 100, 1, 1, 1, 1)),
                Answers.failed("vanilla", 1, 2, 1, "vm_timeout", "timed out"),
                Answers.ok("vanilla", 1, 3, 1, Answers.restore("vanilla", 300, 1, 1, 1, 1))));
        assertEquals(3, r.runs());
        assertEquals(2, r.invocations());
        assertEquals(1, r.errors());
        assertEquals(100, r.totalMs().median(), "the lower of the two answered");
    }

    @Test
    void noMemoryObjectMeansNoMemoryMediansAndWarmMissesAreWarnedAbout() {
        var restored = Answers.warm(50);
        restored.put("cold_start", "vanilla"); // the pool was empty: this "warm" call restored an instance
        restored.putArray("warnings").add("pool empty");
        BenchResult r = BenchResult.of(List.of(Answers.ok("warm", 2, 1, 1, Answers.warm(2)), Answers.ok("warm", 2, 1, 2, restored)));
        assertTrue(r.memory().isEmpty());
        assertTrue(Double.isNaN(r.memoryMedian("major_faults")));
        assertEquals(2, r.warnings().size());
        assertEquals("pool empty", r.warnings().get(0));
        assertTrue(r.warnings().get(1).startsWith("1 of 2 warm invocations found no idle instance"), r.warnings().get(1));
    }

    @Test
    void jsonHasTheDemoFieldsPlusInputParallelismAndMemory() {
        BenchResult r = BenchResult.of(List.of(Answers.ok("vanilla", 1, 1, 1, Answers.restore("vanilla", 100, 10, 4096, 100, 80))));
        var json = Json.MAPPER.valueToTree(r);
        for (String f : List.of("function", "mode", "runs", "total_ms", "phases_ms", "input", "parallelism", "memory")) {
            assertTrue(json.has(f), f + " in " + json);
        }
        assertEquals(100.0, json.path("total_ms").path("median").asDouble());
        assertEquals(10.0, json.path("memory").path("major_faults").path("median").asDouble());
        assertEquals(4096.0, json.path("memory").path("disk_read_bytes").path("median").asDouble());
        assertFalse(json.has("errors"), "errors only when there were some: " + json);
        assertFalse(json.has("warnings"));
    }
}
