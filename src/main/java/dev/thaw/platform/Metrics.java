package dev.thaw.platform;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Supplier;

/**
 * Counters and latency histograms, rendered in the Prometheus text format for {@code GET /metrics}.
 *
 * <p>Series are keyed by their label string and created on first use; recording is a map lookup
 * plus atomic increments, cheap enough for every invocation. Gauges (instances per state) are
 * computed when scraped, from suppliers the platform registers.
 */
public final class Metrics {
    static final double[] BUCKETS_S = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Map<String, Map<String, AtomicLong>> counters = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Histogram>> histograms = new ConcurrentHashMap<>();
    private final Map<String, Supplier<Map<String, Long>>> gauges = new ConcurrentHashMap<>();
    private final Map<String, String> help = new ConcurrentHashMap<>();

    public void increment(String name, String help, String labels) {
        this.help.putIfAbsent(name, help);
        counters.computeIfAbsent(name, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(labels, k -> new AtomicLong()).incrementAndGet();
    }

    public void observe(String name, String help, String labels, double seconds) {
        this.help.putIfAbsent(name, help);
        histograms.computeIfAbsent(name, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(labels, k -> new Histogram()).observe(seconds);
    }

    /** A gauge family whose series (label string → value) are computed at scrape time. */
    public void gauge(String name, String help, Supplier<Map<String, Long>> series) {
        this.help.put(name, help);
        gauges.put(name, series);
    }

    public static String labels(String... kv) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (!b.isEmpty()) b.append(',');
            b.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return b.toString();
    }

    public String render() {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(counters).forEach((name, series) -> {
            header(out, name, "counter");
            new TreeMap<>(series).forEach((l, v) -> out.append(name).append('{').append(l).append("} ").append(v.get()).append('\n'));
        });
        new TreeMap<>(gauges).forEach((name, supplier) -> {
            header(out, name, "gauge");
            new TreeMap<>(supplier.get()).forEach((l, v) -> out.append(name).append('{').append(l).append("} ").append(v).append('\n'));
        });
        new TreeMap<>(histograms).forEach((name, series) -> {
            header(out, name, "histogram");
            new TreeMap<>(series).forEach((l, h) -> h.render(out, name, l));
        });
        return out.toString();
    }

    private void header(StringBuilder out, String name, String type) {
        out.append("# HELP ").append(name).append(' ').append(help.getOrDefault(name, name)).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static final class Histogram {
        final AtomicLongArray buckets = new AtomicLongArray(BUCKETS_S.length);
        final AtomicLong count = new AtomicLong();
        final DoubleAdder sum = new DoubleAdder();

        void observe(double s) {
            for (int i = 0; i < BUCKETS_S.length; i++) if (s <= BUCKETS_S[i]) buckets.incrementAndGet(i);
            count.incrementAndGet();
            sum.add(s);
        }

        void render(StringBuilder out, String name, String labels) {
            String sep = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < BUCKETS_S.length; i++) {
                out.append(name).append("_bucket{").append(sep).append("le=\"").append(fmt(BUCKETS_S[i])).append("\"} ")
                        .append(buckets.get(i)).append('\n');
            }
            out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(count.get()).append('\n');
            out.append(name).append("_sum{").append(labels).append("} ").append(fmt(sum.sum())).append('\n');
            out.append(name).append("_count{").append(labels).append("} ").append(count.get()).append('\n');
        }

        private static String fmt(double d) {
            return String.format(Locale.ROOT, "%s", d);
        }
    }
}
