package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BenchReportTest {
    @Test
    void jsonHasTheDemoShapeWithBenchmarkFields(@TempDir Path dir) throws IOException {
        BenchReport report = ReportFixture.report();
        Path file = dir.resolve("out/results.json");
        report.write(file);
        JsonNode json = Json.parse(Files.readString(file));
        assertEquals("tcg", json.path("host").path("accel").asText());
        assertEquals(8192, json.path("host").path("read_ahead_kb").asInt());
        assertEquals(128, json.path("read_ahead").path("kb").asInt());
        assertEquals("nearest rank", json.path("percentiles").asText());
        assertEquals(256, json.path("functions").path("hello").path("memory_mib").asInt());
        JsonNode results = json.path("results");
        assertEquals(2 * 6 + 2 * 4, results.size()); // the modes grid, then the concurrency sweep
        JsonNode first = results.get(0);
        assertEquals("hello", first.path("function").asText());
        assertEquals("cold", first.path("mode").asText());
        assertEquals("test", first.path("input").asText());
        assertEquals(1, first.path("parallelism").asInt());
        assertEquals(3, first.path("runs").asInt());
        assertEquals(2402.0, first.path("total_ms").path("median").asDouble());
        assertTrue(first.path("phases_ms").path("vmm_start").isNumber());
        assertEquals(1200.0, first.path("memory").path("major_faults").path("median").asDouble());
        JsonNode p8 = results.get(results.size() - 1);
        assertEquals(8, p8.path("parallelism").asInt());
        assertEquals(1, p8.path("runs").asInt());
        assertEquals(8, p8.path("invocations").asInt());
        assertEquals("not supported", json.path("skipped").get(0).path("reason").asText());
        assertFalse(json.has("aborted"));
    }

    @Test
    void readsBackWhatItWrites(@TempDir Path dir) throws IOException {
        BenchReport report = ReportFixture.report();
        report.write(dir.resolve("r.json"));
        BenchReport back = BenchReport.read(dir.resolve("r.json"));
        assertEquals(report.results(), back.results());
        assertEquals(report.host(), back.host());
        assertEquals(report.functions(), back.functions());
        assertEquals(report.readAhead(), back.readAhead());
        Files.writeString(dir.resolve("bad.json"), "{\"results\": 3}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BenchReport.read(dir.resolve("bad.json")))
                .getMessage().startsWith(dir.resolve("bad.json") + ": not a thaw bench result file"));
    }

    @Test
    void tableHasOneLinePerResult() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        BenchReport report = ReportFixture.report();
        report.printTable(new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        List<String> lines = out.lines().toList();
        String header = lines.stream().filter(l -> l.startsWith("experiment")).findFirst().orElseThrow();
        assertTrue(header.contains("function") && header.contains("median ms") && header.contains("vmm_start")
                && header.contains("faults") && header.contains("WS MiB"), header);
        assertEquals(report.results().size(), lines.stream().filter(l -> l.startsWith("modes ") || l.startsWith("concurrency ")).count());
        assertTrue(out.contains("read_ahead_kb set to 128 for this run (was 8192)"));
        assertTrue(out.contains("skipped mode x: not supported"));
        assertTrue(out.contains("\npercentiles: nearest rank (the smallest value with at least p% of the values at or below it;"), out);
    }
}
