package dev.thaw.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadCommandTest {
    @TempDir
    Path dir;

    @Test
    void selfTestWritesTheJsonSummaryAndCsv() throws Exception {
        Path json = dir.resolve("r.json");
        Path csv = dir.resolve("r.csv");
        int rc = Main.run("load", "--self-test", "--rate", "2000", "--duration", "1s", "--warmup", "0",
                "--progress", "0", "--json", json.toString(), "--csv", csv.toString());
        assertEquals(0, rc);
        JsonNode r = Json.parse(Files.readString(json));
        JsonNode s = r.get("summary");
        assertEquals("nearest rank", r.path("percentiles").asText());
        for (String f : List.of("offered_rps", "achieved_rps", "errors", "latency_ms", "schedule_lag_ms", "cold_start_fraction")) {
            assertTrue(s.has(f), "summary." + f);
        }
        for (String p : List.of("p50", "p90", "p99", "p999", "max")) {
            assertTrue(s.get("latency_ms").has(p), "latency_ms." + p);
            assertTrue(s.get("schedule_lag_ms").has(p), "schedule_lag_ms." + p);
        }
        assertTrue(r.get("functions").has("selftest"));
        assertTrue(r.has("cold_start_fraction"));
        long scheduled = s.get("scheduled").asLong();
        assertEquals(scheduled, s.get("ok").asLong());
        assertEquals(2000, scheduled, 200);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(scheduled + 1, lines.size());
        assertTrue(lines.get(0).startsWith("index,scheduled_ms,sent_ms,function"));
        assertTrue(lines.get(1).contains(",selftest,selftest,ok,200,"), lines.get(1));
    }

    @Test
    void dryRunSendsNothingAndDescribesTheSchedule() throws Exception {
        Path w = dir.resolve("w.json");
        Files.writeString(w, """
                {"source": {"type": "synthetic", "duration": "1m", "functions": [{"name": "a", "rate": 5}]},
                 "mapping": {"type": "direct"}}""");
        Path json = dir.resolve("d.json");
        // Port 9 on loopback: nothing listens, and a dry run must not try.
        int rc = Main.run("load", w.toString(), "--dry-run", "--target", "http://127.0.0.1:9", "--json", json.toString());
        assertEquals(0, rc);
        JsonNode d = Json.parse(Files.readString(json)).get("dry_run");
        assertEquals(1, d.get("functions").asInt());
        assertEquals(300, d.get("invocations").asDouble(), 60);
        assertEquals(1, d.get("per_minute").size());
    }

    @Test
    void badInputExitsWithTwo() throws Exception {
        assertEquals(2, Main.run("load"));
        assertEquals(2, Main.run("load", dir.resolve("missing.json").toString()));
        assertEquals(2, Main.run("load", "--self-test", "--rate", "0"));
        Path w = dir.resolve("w.json");
        Files.writeString(w, "{\"source\": {\"type\": \"synthetic\", \"duration\": \"1m\", \"functions\": [{\"name\": \"a\", \"rate\": 5}]}}");
        assertEquals(2, Main.run("load", w.toString(), "--target", "ftp://x"));
    }
}
