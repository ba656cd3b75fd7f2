package dev.thaw.platform;

import io.micrometer.core.instrument.Tags;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class MetricsTest {
    /** The exposition read back: sample ("name{labels}") → value, family → type, family → help. */
    record Exposition(Map<String, Double> samples, Map<String, String> types, Map<String, String> help, String text) {
        static Exposition parse(String text) {
            Map<String, Double> samples = new LinkedHashMap<>();
            Map<String, String> types = new HashMap<>();
            Map<String, String> help = new HashMap<>();
            for (String line : text.split("\n")) {
                if (line.isBlank()) continue;
                if (line.startsWith("# TYPE ")) {
                    String[] p = line.substring(7).split(" ", 2);
                    assertNull(types.put(p[0], p[1]), "family typed twice: " + line);
                } else if (line.startsWith("# HELP ")) {
                    String[] p = line.substring(7).split(" ", 2);
                    help.put(p[0], p[1]);
                } else {
                    assertFalse(line.startsWith("#"), "unexpected comment: " + line);
                    int sp = line.lastIndexOf(' ');
                    assertNull(samples.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1))), "sample twice: " + line);
                }
            }
            return new Exposition(samples, types, help, text);
        }

        double value(String sample) {
            Double v = samples.get(sample);
            assertNotNull(v, "no sample " + sample + " in\n" + text);
            return v;
        }
    }

    @Test
    void countersKeepTheirNamesLabelsAndHelp() {
        Metrics m = new Metrics();
        String labels = Metrics.labels("function", "hello", "mode", "warm", "status", "ok");
        m.increment("thaw_invocations_total", "Invocations by function, mode and outcome", labels);
        m.increment("thaw_invocations_total", "Invocations by function, mode and outcome", labels);
        m.increment("thaw_invocations_total", "Invocations by function, mode and outcome",
                Metrics.labels("function", "hello", "mode", "cold", "status", "error"));
        m.increment("thaw_rejections_total", "Invocations refused with 429, by the limit hit", Metrics.labels("reason", "queue"));
        Exposition e = Exposition.parse(m.render());
        assertEquals("counter", e.types().get("thaw_invocations_total"));
        assertEquals("Invocations by function, mode and outcome", e.help().get("thaw_invocations_total"));
        assertEquals(2, e.value("thaw_invocations_total{function=\"hello\",mode=\"warm\",status=\"ok\"}"));
        assertEquals(1, e.value("thaw_invocations_total{function=\"hello\",mode=\"cold\",status=\"error\"}"));
        assertEquals(1, e.value("thaw_rejections_total{reason=\"queue\"}"));
        assertEquals(Map.of("thaw_invocations_total", "counter", "thaw_rejections_total", "counter"), e.types());
    }

    @Test
    void labelValuesAreEscaped() {
        Metrics m = new Metrics();
        m.increment("thaw_x_total", "x", Metrics.labels("function", "a\"b\\c"));
        Exposition e = Exposition.parse(m.render());
        assertEquals(1, e.value("thaw_x_total{function=\"a\\\"b\\\\c\"}"));
        assertEquals(Tags.of("function", "a\"b\\c", "mode", "warm"), Metrics.tags(Metrics.labels("function", "a\"b\\c", "mode", "warm")));
        assertEquals(Tags.empty(), Metrics.tags(""));
        assertThrows(IllegalArgumentException.class, () -> Metrics.tags("function=\"open"));
    }

    @Test
    void histogramsHaveTheBucketsCountAndSumAndNoMax() {
        Metrics m = new Metrics();
        String warm = Metrics.labels("function", "f", "mode", "warm");
        m.observe("thaw_invocation_duration_seconds", "Invocation latency seen by the platform", warm, 0.03);
        m.observe("thaw_invocation_duration_seconds", "Invocation latency seen by the platform", warm, 2);
        m.observe("thaw_invocation_duration_seconds", "Invocation latency seen by the platform", warm, 100);
        m.observe("thaw_restore_duration_seconds", "Time from request to a resumed VM, by strategy", Metrics.labels("strategy", "reap"), 0.25);
        Exposition e = Exposition.parse(m.render());
        assertEquals("histogram", e.types().get("thaw_invocation_duration_seconds"));
        assertEquals("histogram", e.types().get("thaw_restore_duration_seconds"));
        assertEquals(2, e.types().size(), "only the families asked for, no _max gauges: " + e.types());
        String at = "thaw_invocation_duration_seconds_bucket{function=\"f\",mode=\"warm\",le=\"";
        assertEquals(0, e.value(at + "0.025\"}"));
        assertEquals(1, e.value(at + "0.05\"}"));
        assertEquals(1, e.value(at + "1.0\"}"));
        assertEquals(2, e.value(at + "2.5\"}"));
        assertEquals(2, e.value(at + "60.0\"}"));
        assertEquals(3, e.value(at + "+Inf\"}"));
        assertEquals(3, e.value("thaw_invocation_duration_seconds_count{function=\"f\",mode=\"warm\"}"));
        assertEquals(102.03, e.value("thaw_invocation_duration_seconds_sum{function=\"f\",mode=\"warm\"}"), 1e-9);
        long buckets = e.samples().keySet().stream().filter(s -> s.startsWith(at)).count();
        assertEquals(Metrics.BUCKETS_S.length + 1, buckets);
        assertEquals(1, e.value("thaw_restore_duration_seconds_bucket{strategy=\"reap\",le=\"0.25\"}"));
        assertEquals(0, e.value("thaw_restore_duration_seconds_bucket{strategy=\"reap\",le=\"0.1\"}"));
    }

    @Test
    void gaugeSeriesFollowTheSupplier() {
        Metrics m = new Metrics();
        AtomicReference<Map<String, Long>> now = new AtomicReference<>(Map.of(
                Metrics.labels("function", "a", "state", "idle"), 3L,
                Metrics.labels("function", "a", "state", "busy"), 1L));
        m.gauge("thaw_instances", "Running instances by function and state", now::get);
        Exposition e = Exposition.parse(m.render());
        assertEquals("gauge", e.types().get("thaw_instances"));
        assertEquals("Running instances by function and state", e.help().get("thaw_instances"));
        assertEquals(3, e.value("thaw_instances{function=\"a\",state=\"idle\"}"));
        assertEquals(1, e.value("thaw_instances{function=\"a\",state=\"busy\"}"));

        // busy empties, a new function appears, idle changes: one scrape reflects all three.
        Map<String, Long> next = new TreeMap<>();
        next.put(Metrics.labels("function", "a", "state", "idle"), 4L);
        next.put(Metrics.labels("function", "b", "state", "starting"), 2L);
        now.set(next);
        e = Exposition.parse(m.render());
        assertEquals(4, e.value("thaw_instances{function=\"a\",state=\"idle\"}"));
        assertEquals(2, e.value("thaw_instances{function=\"b\",state=\"starting\"}"));
        assertFalse(e.samples().containsKey("thaw_instances{function=\"a\",state=\"busy\"}"), e.text());
        assertEquals(2, e.samples().size(), e.text());

        // A series that comes back is exposed again, and an empty answer leaves no series.
        now.set(Map.of(Metrics.labels("function", "a", "state", "busy"), 7L));
        assertEquals(7, Exposition.parse(m.render()).value("thaw_instances{function=\"a\",state=\"busy\"}"));
        now.set(Map.of());
        assertTrue(Exposition.parse(m.render()).samples().isEmpty());
    }

    @Test
    void registeringAGaugeAgainReplacesItsSupplier() {
        Metrics m = new Metrics();
        m.gauge("thaw_queue_length", "Invocations waiting for a concurrency slot, by function",
                () -> Map.of(Metrics.labels("function", "a"), 1L));
        m.gauge("thaw_queue_length", "Invocations waiting for a concurrency slot, by function",
                () -> Map.of(Metrics.labels("function", "b"), 5L));
        Exposition e = Exposition.parse(m.render());
        assertEquals(Map.of("thaw_queue_length{function=\"b\"}", 5.0), e.samples());
    }

    @Test
    void namesThatMicrometerWouldRenameAreRefused() {
        Metrics m = new Metrics();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> m.increment("thaw_invocations", "x", ""))
                .getMessage().contains("_total"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> m.observe("thaw_latency", "x", "", 1))
                .getMessage().contains("_seconds"));
    }

    @Test
    void anEmptyRegistryRendersNothing() {
        assertEquals("", new Metrics().render().strip());
    }
}
