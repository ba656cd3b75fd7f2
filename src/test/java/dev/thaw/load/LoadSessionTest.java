package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The package's entry point as {@code thaw load} uses it: LoadTest, then a session, then its result. */
class LoadSessionTest {
    private static final LoadTest.Overrides NONE = new LoadTest.Overrides(null, null, null, null);

    private static LoadTest.Settings settings(Duration warmup) {
        return new LoadTest.Settings(4, -1, Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ZERO,
                Duration.ofNanos(500_000), Duration.ZERO, warmup, false, false);
    }

    @Test
    void aSelfTestRunsAgainstTheLoopbackServerAndReportsEveryInvocation() throws Exception {
        LoadTest test = LoadTest.selfTest(500, Duration.ofMillis(200), "constant", new LoadTest.Overrides(3.0, null, "reap", 7L));
        try (LoopbackServer server = LoopbackServer.start(0, 1)) {
            LoadSession session = test.session(server.url(), settings(Duration.ZERO));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            session.prepare(new PrintStream(log, true, StandardCharsets.UTF_8));
            LoadResult result = session.run();
            assertTrue(result.balanced());
            JsonNode report = Json.parse(result.json());
            long scheduled = report.at("/summary/scheduled").asLong();
            assertEquals(100, scheduled, "500/s for 0.2 s, constant arrivals");
            assertEquals(scheduled, report.at("/summary/ok").asLong());
            assertEquals(scheduled, server.requests());
            assertEquals(1.0, report.at("/workload/speed").asDouble(), "the speed override does not apply to a self-test");
            assertEquals("reap", report.at("/workload/mode").asText());
            assertEquals(7, report.at("/workload/seed").asLong());
            assertEquals("constant", report.at("/workload/self_test_arrival").asText());
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("sending 100 invocations of 1 function(s)"), log.toString());
        }
    }

    @Test
    void aDryRunDescribesTheScheduleWithoutATarget() {
        LoadTest test = LoadTest.selfTest(50, Duration.ofSeconds(90), "poisson", NONE);
        // Port 9 on loopback: nothing listens, and a dry run must not try.
        LoadSession session = test.session("http://127.0.0.1:9", settings(Duration.ZERO));
        JsonNode d = Json.parse(session.dryRunJson());
        assertEquals("http://127.0.0.1:9", d.at("/workload/target").asText());
        assertEquals(2, d.at("/dry_run/per_minute").size());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        session.printDryRun(new PrintStream(out, true, StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("workload self-test: 1 function(s), "), out.toString());
    }

    @Test
    void badValuesNameTheirOption() {
        var rate = assertThrows(IllegalArgumentException.class, () -> LoadTest.selfTest(0, Duration.ofSeconds(1), "poisson", NONE));
        assertEquals("--rate must be positive", rate.getMessage());
        var arrival = assertThrows(IllegalArgumentException.class, () -> LoadTest.selfTest(1, Duration.ofSeconds(1), "bursty", NONE));
        assertEquals("--arrival must be poisson or constant, not 'bursty'", arrival.getMessage());
        LoadTest test = LoadTest.selfTest(1, Duration.ofSeconds(1), "poisson", NONE);
        var target = assertThrows(IllegalArgumentException.class, () -> test.session("ftp://x", settings(Duration.ZERO)));
        assertEquals("--target: 'ftp://x' must be an http:// URL with a host", target.getMessage());
    }

    @Test
    void aSessionRunsOnlyOncePrepared() {
        LoadSession session = LoadTest.selfTest(1, Duration.ofSeconds(1), "poisson", NONE)
                .session("http://127.0.0.1:9", settings(Duration.ZERO));
        assertThrows(IllegalStateException.class, session::run);
    }
}
