package dev.thaw.platform;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Counters, latency histograms and gauges, kept in a Micrometer {@link PrometheusMeterRegistry}
 * and rendered in the Prometheus text format (0.0.4) for {@code GET /metrics}.
 *
 * <p>Callers name series the Prometheus way: the exposed metric name ({@code thaw_invocations_total})
 * and a label string made by {@link #labels}. Each (name, label string) pair is turned into a
 * Micrometer meter once and cached, so recording stays a map lookup plus an atomic update. To keep
 * the exposed names exactly the ones callers give, counter names must end in {@code _total}
 * (Prometheus strips and re-adds that suffix) and histogram names in {@code _seconds} (the base
 * unit Micrometer would otherwise append); anything else is refused rather than renamed silently.
 * Histograms are Micrometer timers with {@link #BUCKETS_S} as their buckets. Their
 * {@code _max} companion gauge is left out of the rendering, so the exposition holds only the
 * families callers asked for.
 *
 * <p>Gauge families such as instances by function and state change their label sets over time:
 * a function is deployed, a state empties. A caller registers a supplier of label string → value,
 * and every scrape first asks it for the current series: a series seen for the first time gets a
 * Micrometer gauge reading an {@link AtomicLong} holder, a known series has its holder updated,
 * and a series missing from the supplier's answer has its gauge removed from the registry, so it
 * disappears from the exposition instead of repeating its last value. Scrapes are serialised;
 * they are rare, and this keeps that refresh and the rendering one consistent step.
 */
public final class Metrics {
    static final double[] BUCKETS_S = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final Duration[] BUCKETS = java.util.Arrays.stream(BUCKETS_S)
            .mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9))).toArray(Duration[]::new);
    private static final String TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, GaugeFamily> gauges = new ConcurrentHashMap<>();
    /** Every family callers registered, by its Prometheus family name: the scrape renders these and nothing else. */
    private final Set<String> families = ConcurrentHashMap.newKeySet();

    public void increment(String name, String help, String labels) {
        counters.computeIfAbsent(name + '\0' + labels, k -> {
            if (!name.endsWith("_total")) throw new IllegalArgumentException("counter name must end in _total, got " + name);
            // The Prometheus client names a counter family without its _total suffix, and filters by that name.
            families.add(name.substring(0, name.length() - "_total".length()));
            return Counter.builder(name).description(help).tags(tags(labels)).register(registry);
        }).increment();
    }

    public void observe(String name, String help, String labels, double seconds) {
        timers.computeIfAbsent(name + '\0' + labels, k -> {
            if (!name.endsWith("_seconds")) throw new IllegalArgumentException("histogram name must end in _seconds, got " + name);
            families.add(name);
            return Timer.builder(name).description(help).tags(tags(labels)).serviceLevelObjectives(BUCKETS).register(registry);
        }).record(Math.round(Math.max(0, seconds) * 1e9), TimeUnit.NANOSECONDS);
    }

    /** A gauge family whose series (label string → value) are computed at scrape time; registering a name again replaces its supplier. */
    public void gauge(String name, String help, Supplier<Map<String, Long>> series) {
        families.add(name);
        gauges.compute(name, (k, old) -> {
            if (old == null) return new GaugeFamily(name, help, series);
            old.supplier = series;
            return old;
        });
    }

    public static String labels(String... kv) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (!b.isEmpty()) b.append(',');
            b.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return b.toString();
    }

    /** The Prometheus text exposition (format 0.0.4) of every family registered so far. */
    public synchronized String render() {
        gauges.values().forEach(GaugeFamily::refresh);
        return registry.scrape(TEXT_004, Set.copyOf(families));
    }

    /** Reads back a label string made by {@link #labels}: {@code k="v",k2="v2"}, with {@code \\} and {@code \"} escapes. */
    static Tags tags(String labels) {
        List<Tag> out = new ArrayList<>();
        int i = 0, n = labels.length();
        while (i < n) {
            int eq = labels.indexOf("=\"", i);
            if (eq < 0) throw new IllegalArgumentException("malformed label string: " + labels);
            String key = labels.substring(i, eq);
            StringBuilder value = new StringBuilder();
            int j = eq + 2;
            for (; j < n && labels.charAt(j) != '"'; j++) {
                char c = labels.charAt(j);
                if (c == '\\' && j + 1 < n) c = labels.charAt(++j);
                value.append(c);
            }
            if (j >= n) throw new IllegalArgumentException("malformed label string: " + labels);
            out.add(Tag.of(key, value.toString()));
            i = j + 1;
            if (i < n && labels.charAt(i++) != ',') throw new IllegalArgumentException("malformed label string: " + labels);
        }
        return Tags.of(out);
    }

    /** One gauge family: a Micrometer gauge per live series, each reading a holder the scrape updates. */
    private final class GaugeFamily {
        final String name;
        final String help;
        volatile Supplier<Map<String, Long>> supplier;
        /** Guarded by the {@link #render} lock. */
        final Map<String, Series> live = new HashMap<>();

        GaugeFamily(String name, String help, Supplier<Map<String, Long>> supplier) {
            this.name = name;
            this.help = help;
            this.supplier = supplier;
        }

        void refresh() {
            Map<String, Long> now = supplier.get();
            for (Iterator<Map.Entry<String, Series>> it = live.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Series> e = it.next();
                if (!now.containsKey(e.getKey())) {
                    registry.remove(e.getValue().gauge());
                    it.remove();
                }
            }
            now.forEach((labels, value) -> live.computeIfAbsent(labels, l -> {
                AtomicLong holder = new AtomicLong();
                Gauge g = Gauge.builder(name, holder, AtomicLong::get).description(help).tags(tags(l))
                        .strongReference(true).register(registry);
                return new Series(holder, g);
            }).value().set(value));
        }
    }

    private record Series(AtomicLong value, Gauge gauge) {}
}
