package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Percentiles;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The invocations of one cell of a scenario — one function, input, mode and parallelism level —
 * summarised: a row of the benchmark's JSON and of the report's tables. The sibling of
 * {@link ModeResult} (same {@code function/mode/runs/total_ms/phases_ms} fields, so readers of
 * {@code thaw demo --json} read this too) with what the benchmarks add.
 *
 * @param runs        rounds of {@code parallelism} concurrent invocations
 * @param invocations successful invocations summarised; {@code total_ms} and the medians are over all of them
 * @param errors      failed invocations, left out of the statistics
 * @param memory      per memory field of the answers ({@code major_faults}, {@code disk_read_bytes},
 *                    {@code working_set_pages}, {@code loading_set_pages}), its median; absent
 *                    when the daemon reported none
 * @param vsVanilla   this mode against {@code vanilla} in the same runs (see {@link Paired}); absent
 *                    for vanilla itself and when the scenario has no vanilla runs to pair with
 * @param vsCached    the same against {@code cached}; absent for vanilla and cached and without both twins
 * @param gapClosed   the share of the vanilla–cached gap this mode closes, run by run ({@link GapClosed})
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"experiment", "function", "mode", "input", "parallelism", "runs", "invocations", "errors",
        "total_ms", "phases_ms", "memory", "vs_vanilla", "vs_cached", "gap_closed", "warnings"})
public record BenchResult(@JsonProperty("experiment") String experiment, @JsonProperty("function") String function,
                          @JsonProperty("mode") String mode, @JsonProperty("input") String input,
                          @JsonProperty("parallelism") int parallelism, @JsonProperty("runs") int runs,
                          @JsonProperty("invocations") int invocations,
                          @JsonProperty("errors") @JsonInclude(JsonInclude.Include.NON_DEFAULT) int errors,
                          @JsonProperty("total_ms") Stats totalMs, @JsonProperty("phases_ms") Map<String, Double> phasesMs,
                          @JsonProperty("memory") Map<String, Median> memory, @JsonProperty("warnings") List<String> warnings,
                          @JsonProperty("vs_vanilla") Paired vsVanilla, @JsonProperty("vs_cached") Paired vsCached,
                          @JsonProperty("gap_closed") GapClosed gapClosed) {

    /**
     * A side-by-side comparison with vanilla: for every run both modes made (the benchmark runs
     * the modes in turns, so run k of each lies seconds apart), this mode's latency divided by
     * vanilla's; the median of those ratios, and in how many runs this mode was the faster.
     * On a noisy host this is steadier than the ratio of two medians taken minutes apart.
     */
    public record Paired(@JsonProperty("median_ratio") double medianRatio, @JsonProperty("runs_faster") int runsFaster,
                         @JsonProperty("runs") int runs) {}

    /**
     * How much of the gap between vanilla and cached a mode closes: per run (vanilla − mode) /
     * (vanilla − cached), the median of those shares (1 = as fast as cached), with the median gap
     * itself as a fraction of vanilla (FaaSnap's bar applies where it exceeds 5%) and the runs used.
     */
    public record GapClosed(@JsonProperty("median_share") double medianShare, @JsonProperty("median_gap") double medianGap,
                            @JsonProperty("runs") int runs) {}

    /** The one statistic reported for a memory counter. */
    public record Median(@JsonProperty("median") double median) {}

    /** Phases in the order they happen; answers may carry others, which follow in name order. */
    public static final List<String> PHASES = java.util.Arrays.stream(dev.thaw.model.Phase.values())
            .map(dev.thaw.model.Phase::id).toList();
    public static final List<String> MEMORY = List.of("major_faults", "disk_read_bytes", "working_set_pages", "loading_set_pages");

    public BenchResult {
        phasesMs = phasesMs == null ? Map.of() : phasesMs;
        memory = memory == null ? Map.of() : memory;
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** Summarises the invocations of one cell (all with the same experiment, function, input, mode and parallelism). */
    public static BenchResult of(List<Invocation> cell) {
        if (cell.isEmpty()) throw new IllegalArgumentException("no invocations to summarise");
        Invocation first = cell.getFirst();
        List<JsonNode> answers = cell.stream().filter(Invocation::ok).map(Invocation::response).toList();
        ModeResult timing = ModeResult.of(first.function(), first.mode(), answers);

        Map<String, List<Double>> mem = new TreeMap<>();
        Set<String> warnings = new LinkedHashSet<>();
        for (JsonNode a : answers) {
            // Numbers, and the numbers of nested objects one level down as "parent.field"
            // (memory.uffd's fault service times, working_set_pages_by_method).
            a.path("memory").properties().forEach(e -> {
                if (e.getValue().isNumber()) mem.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue().asDouble());
                else if (e.getValue().isObject()) e.getValue().properties().forEach(f -> {
                    if (f.getValue().isNumber()) mem.computeIfAbsent(e.getKey() + "." + f.getKey(), k -> new ArrayList<>()).add(f.getValue().asDouble());
                });
            });
            a.path("warnings").forEach(w -> warnings.add(w.asText()));
        }
        Map<String, Median> memory = new LinkedHashMap<>();
        for (String k : ordered(mem.keySet(), MEMORY)) memory.put(k, new Median(Percentiles.median(mem.get(k))));

        long notWarm = cell.stream().filter(Invocation::notWarm).count();
        if (notWarm > 0) {
            warnings.add(notWarm + " of " + answers.size() + " warm invocations found no idle instance and started one"
                    + " (the daemon keeps fewer idle instances than the parallelism)");
        }
        int runs = (int) cell.stream().mapToInt(Invocation::run).distinct().count();
        return new BenchResult(first.experiment(), first.function(), first.mode(), first.input(), first.parallelism(),
                runs, answers.size(), cell.size() - answers.size(), timing.totalMs(),
                orderedMap(timing.phasesMs(), PHASES), memory, List.copyOf(warnings), null, null, null);
    }

    /** This result with its comparison against the vanilla runs of the same cell. */
    BenchResult pairedWith(Paired p) {
        return new BenchResult(experiment, function, mode, input, parallelism, runs, invocations, errors, totalMs,
                phasesMs, memory, warnings, p, vsCached, gapClosed);
    }

    /** This result with its comparison against the cached runs, and the share of the vanilla–cached gap it closes. */
    BenchResult withCached(Paired p, GapClosed gap) {
        return new BenchResult(experiment, function, mode, input, parallelism, runs, invocations, errors, totalMs,
                phasesMs, memory, warnings, vsVanilla, p, gap);
    }

    /** Known keys in their given order, then the rest in name order. */
    static List<String> ordered(Set<String> keys, List<String> known) {
        List<String> out = new ArrayList<>();
        for (String k : known) if (keys.contains(k)) out.add(k);
        keys.stream().filter(k -> !known.contains(k)).sorted().forEach(out::add);
        return out;
    }

    private static Map<String, Double> orderedMap(Map<String, Double> in, List<String> known) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String k : ordered(in.keySet(), known)) out.put(k, in.get(k));
        return out;
    }

    /** A memory median, or NaN when not reported. */
    public double memoryMedian(String field) {
        Median m = memory.get(field);
        return m == null ? Double.NaN : m.median();
    }
}
