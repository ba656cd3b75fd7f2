package dev.thaw.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CsvTest {
    @Test
    void oneRowPerInvocationWithEveryPhaseAndMemoryColumn() {
        List<Invocation> inv = List.of(
                Answers.ok("vanilla", 2, 1, 1, Answers.restore("vanilla", 100, 10, 4096, 100, 80)),
                Answers.ok("vanilla", 2, 1, 2, Answers.restore("vanilla", 120.5, 11, 8192, 101, 81)),
                Answers.failed("vanilla", 2, 2, 1, "handler_error", "hello raised ValueError: bad, \"really\""));
        List<String> lines = Csv.render(inv).lines().toList();
        assertEquals(4, lines.size());
        List<String> header = List.of(lines.get(0).split(","));
        assertEquals(List.of("experiment", "function", "mode", "input", "parallelism", "run", "slot", "total_ms",
                "vmm_start_ms", "vmm_bind_ms", "state_load_ms", "prefetch_ms", "resume_ms", "boot_ms", "function_load_ms", "guest_exec_ms",
                "host_overhead_ms", "client_ms", "major_faults", "disk_read_bytes", "working_set_pages", "loading_set_pages",
                "instance", "cold_start", "error_code", "error", "warnings"), header);
        List<String> row = List.of(lines.get(2).split(",", -1));
        assertEquals(header.size(), row.size());
        assertEquals("hello", row.get(header.indexOf("function")));
        assertEquals("2", row.get(header.indexOf("parallelism")));
        assertEquals("2", row.get(header.indexOf("slot")));
        assertEquals("120.500", row.get(header.indexOf("total_ms")));
        assertEquals("", row.get(header.indexOf("boot_ms")), "a phase that did not happen is an empty cell");
        assertEquals("8192", row.get(header.indexOf("disk_read_bytes")));
        assertEquals("i-120", row.get(header.indexOf("instance")));
        assertTrue(lines.get(3).endsWith(",handler_error,\"hello raised ValueError: bad, \"\"really\"\"\","), lines.get(3));
    }

    @Test
    void fieldsANewerDaemonAddsGetTheirOwnColumns() {
        var a = Answers.restore("faasnap", 50, 1, 2, 3, 4);
        ((com.fasterxml.jackson.databind.node.ObjectNode) a.get("timing_ms")).put("uffd_wait", 7.0);
        String header = Csv.render(List.of(Answers.ok("faasnap", 1, 1, 1, a))).lines().findFirst().orElseThrow();
        assertTrue(header.contains(",host_overhead_ms,uffd_wait_ms,client_ms,"), header);
    }

    @Test
    void quoting() {
        assertEquals("plain", Csv.quote("plain"));
        assertEquals("\"a,b\"", Csv.quote("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", Csv.quote("say \"hi\""));
        assertEquals("\"two\nlines\"", Csv.quote("two\nlines"));
    }

    @Test
    void nestedMemoryCountersBecomeTheirOwnColumns() {
        var m = dev.thaw.common.Json.parse("{\"major_faults\": 3, \"uffd\": {\"faults\": 7, \"service_p50_us\": 12.5}}");
        var flat = Csv.flatMemory(m);
        assertEquals(List.of("major_faults", "uffd_faults", "uffd_service_p50_us"), List.copyOf(flat.keySet()));
        assertEquals(7, flat.get("uffd_faults").asLong());
    }
}
