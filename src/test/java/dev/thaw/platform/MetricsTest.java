package dev.thaw.platform;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MetricsTest {
    @Test
    void rendersPrometheusText() {
        Metrics m = new Metrics();
        m.increment("thaw_x_total", "x", Metrics.labels("function", "a\"b"));
        m.increment("thaw_x_total", "x", Metrics.labels("function", "a\"b"));
        m.observe("thaw_lat_seconds", "lat", Metrics.labels("mode", "warm"), 0.03);
        m.gauge("thaw_g", "g", () -> Map.of(Metrics.labels("state", "idle"), 3L));
        String text = m.render();
        assertTrue(text.contains("# TYPE thaw_x_total counter"));
        assertTrue(text.contains("thaw_x_total{function=\"a\\\"b\"} 2"), text);
        assertTrue(text.contains("thaw_lat_seconds_bucket{mode=\"warm\",le=\"0.025\"} 0"), text);
        assertTrue(text.contains("thaw_lat_seconds_bucket{mode=\"warm\",le=\"0.05\"} 1"), text);
        assertTrue(text.contains("thaw_lat_seconds_count{mode=\"warm\"} 1"), text);
        assertTrue(text.contains("thaw_g{state=\"idle\"} 3"), text);
    }
}
