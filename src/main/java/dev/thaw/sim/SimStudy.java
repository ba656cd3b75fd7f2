package dev.thaw.sim;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.thaw.common.Percentiles;
import dev.thaw.load.Replay;
import dev.thaw.scale.FixedKeepAlive;
import dev.thaw.scale.HistogramKeepAlive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code thaw sim}'s whole run: every (routing policy, keep-alive) combination over the same
 * replay, one {@link Simulator} each, in the order given, and the report they make together as a
 * table and as JSON. The JSON holds only inputs and results (no wall-clock times or absolute
 * paths), so the same inputs and seed give the same bytes.
 */
public final class SimStudy {
    private SimStudy() {}

    /** The report: what was simulated and one result per combination. */
    @JsonPropertyOrder({"trace", "bench", "restore_mode", "map", "seed", "nodes", "node", "invocations",
            "simulated_minutes", "functions", "notes", "percentiles", "results"})
    public record Report(@JsonProperty("trace") String trace, @JsonProperty("bench") String bench,
                         @JsonProperty("restore_mode") String restoreMode, @JsonProperty("map") String map,
                         @JsonProperty("seed") long seed, @JsonProperty("nodes") int nodes,
                         @JsonProperty("node") Simulator.NodeShape node, @JsonProperty("invocations") int invocations,
                         @JsonProperty("simulated_minutes") double minutes,
                         @JsonProperty("functions") List<FunctionMap> functions, @JsonProperty("notes") List<String> notes,
                         @JsonProperty("percentiles") String percentiles, @JsonProperty("results") List<SimResult> results) {}

    /** A trace function, its stand-in from the bench and what that costs. */
    @JsonPropertyOrder({"source", "bench_function", "memory_mib", "warm_overhead_ms", "restore_extra_ms"})
    public record FunctionMap(@JsonProperty("source") String source, @JsonProperty("bench_function") String benchFunction,
                              @JsonProperty("memory_mib") int memoryMib,
                              @JsonProperty("warm_overhead_ms") double warmOverheadMs,
                              @JsonProperty("restore_extra_ms") double restoreExtraMs) {}

    public static Report run(String traceLabel, Replay replay, BenchProfile bench, String map, int nodes,
                             Simulator.NodeShape shape, List<String> policies, List<Simulator.KeepAlive> keepAlives,
                             long seed, Simulator.Progress progress) {
        List<BenchProfile.Function> profiles = bench.map(map, replay.sources(), replay.targets());
        List<SimResult> results = new ArrayList<>();
        for (String policy : policies) {
            for (Simulator.KeepAlive k : keepAlives) {
                results.add(new Simulator(replay, profiles, nodes, shape, policy, k, seed).run(progress));
            }
        }
        List<FunctionMap> fns = new ArrayList<>();
        for (int i = 0; i < profiles.size(); i++) {
            BenchProfile.Function p = profiles.get(i);
            fns.add(new FunctionMap(replay.sources().get(i), p.name(), p.memoryMib(), SimResult.r(p.warmOverheadMs(), 3),
                    SimResult.r(p.restoreExtraMs(), 3)));
        }
        return new Report(traceLabel, bench.file().toString(), bench.restoreMode(), map, seed, nodes, shape, replay.size(),
                SimResult.r(replay.spanNanos() / 6e10, 3), fns, replay.notes(), Percentiles.DEFINITION, results);
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    /** {@code fixed:DURATION} or {@code histogram[:FALLBACK]} (fallback keep-alive default 10m), e.g. {@code fixed:10m}. */
    public static Simulator.KeepAlive keepAlive(String spec) {
        String[] parts = spec.split(":", 2);
        switch (parts[0]) {
            case "fixed" -> {
                if (parts.length < 2) throw new IllegalArgumentException("--keepalive fixed needs a duration, e.g. fixed:10m");
                FixedKeepAlive shared = new FixedKeepAlive(duration(parts[1])); // stateless: one for all nodes
                return new Simulator.KeepAlive(spec, () -> shared);
            }
            case "histogram" -> {
                Duration fallback = parts.length < 2 ? Duration.ofMinutes(10) : duration(parts[1]);
                return new Simulator.KeepAlive(spec, () -> new HistogramKeepAlive(HistogramKeepAlive.Settings.PAPER, fallback));
            }
            default -> throw new IllegalArgumentException("--keepalive takes fixed:DURATION or histogram[:FALLBACK], got \"" + spec + "\"");
        }
    }

    /** {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}; strictly. */
    static Duration duration(String s) {
        Matcher m = DURATION.matcher(s);
        if (!m.matches()) throw new IllegalArgumentException("\"" + s + "\" is not a duration like 500ms, 30s, 10m or 1h");
        double v = Double.parseDouble(m.group(1));
        double nanos = v * switch (m.group(2)) {
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "m" -> 6e10;
            default -> 3.6e12;
        };
        return Duration.ofNanos(Math.round(nanos));
    }

    /** One row per combination. */
    public static String table(Report report) {
        StringBuilder b = new StringBuilder();
        String head = "%-13s %-14s %9s %8s %7s %9s %9s %9s %12s %12s %9s %7s%n";
        b.append(String.format(Locale.ROOT, head, "policy", "keepalive", "calls", "cold", "cold%", "p50 ms", "p99 ms",
                "p99.9 ms", "instance-s", "idle GiB·s", "peak GiB", "429"));
        for (SimResult r : report.results()) {
            b.append(String.format(Locale.ROOT, "%-13s %-14s %9d %8d %7.2f %9.1f %9.1f %9.1f %12.0f %12.0f %9.1f %7d%n",
                    r.policy(), r.keepAlive(), r.invocations(), r.coldStarts(), r.coldStartPct(), r.latencyMs().p50(),
                    r.latencyMs().p99(), r.latencyMs().p999(), r.instanceSeconds(), r.idleMemoryGibS(), r.peakMemoryGib(),
                    r.rejected()));
        }
        b.append("percentiles: ").append(Percentiles.DEFINITION).append(" over served calls; memory = guest memory of instances")
                .append(" (restoring, busy or idle)\n");
        return b.toString();
    }
}
