package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.thaw.common.Json;
import dev.thaw.common.Percentiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A benchmark's results as written to JSON: the {@code host}/{@code results} shape of
 * {@code thaw demo --json}, each result a {@link BenchResult}, plus what a reader needs to trust
 * them (when, against which daemon, a read-ahead override, what was skipped and why).
 *
 * @param functions each function's guest memory size, the scale for working-set sizes
 * @param aborted   why the run stopped early, or null when it completed
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"scenario", "description", "started", "finished", "daemon", "host", "read_ahead", "percentiles",
        "functions", "results", "skipped", "aborted"})
public record BenchReport(@JsonProperty("scenario") String scenario, @JsonProperty("description") String description,
                          @JsonProperty("started") String started, @JsonProperty("finished") String finished,
                          @JsonProperty("daemon") String daemon, @JsonProperty("host") HostReport host,
                          @JsonProperty("read_ahead") ReadAhead.Setting readAhead,
                          @JsonProperty("functions") Map<String, FunctionNote> functions,
                          @JsonProperty("results") List<BenchResult> results,
                          @JsonProperty("skipped") List<BenchRunner.Skip> skipped,
                          @JsonProperty("aborted") String aborted) {

    public record FunctionNote(@JsonProperty("memory_mib") int memoryMib) {}

    public BenchReport {
        functions = functions == null ? Map.of() : functions;
        results = results == null ? List.of() : List.copyOf(results);
        skipped = skipped == null ? List.of() : List.copyOf(skipped);
    }

    public static BenchReport of(BenchRunner.Outcome o, String daemon, HostReport host, ReadAhead.Setting readAhead) {
        Map<String, FunctionNote> fns = new LinkedHashMap<>();
        o.memoryMib().forEach((k, v) -> fns.put(k, new FunctionNote(v)));
        return new BenchReport(o.scenario().name(), o.scenario().description(),
                o.started().truncatedTo(ChronoUnit.SECONDS).toString(), o.finished().truncatedTo(ChronoUnit.SECONDS).toString(),
                daemon, host, readAhead, fns, o.results(), o.skipped(), o.aborted());
    }

    public static BenchReport read(Path file) {
        try {
            return Json.MAPPER.readValue(file.toFile(), BenchReport.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not a thaw bench result file (" + e.getMessage() + ")", e);
        }
    }

    public void write(Path file) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        Files.writeString(file, Json.pretty(this) + "\n");
    }

    /** Which percentile the medians are ({@link Percentiles}), written into the JSON for its readers; ignored when read back. */
    @JsonProperty(value = "percentiles", access = JsonProperty.Access.READ_ONLY)
    public String percentiles() {
        return Percentiles.DEFINITION;
    }

    /** Phases any result reports, in the order they happen. */
    public List<String> phases() {
        Set<String> keys = new LinkedHashSet<>();
        results.forEach(r -> keys.addAll(r.phasesMs().keySet()));
        return BenchResult.ordered(keys, BenchResult.PHASES);
    }

    /** Prints the results as a plain-text table: latency, phase medians and memory medians. */
    public void printTable(PrintStream out) {
        HostReport h = host;
        if (h != null) {
            out.printf("host: accel=%s cpus=%d read_ahead_kb=%d vmm_thp_advice=%s kernel=%s%n", h.accel(), h.cpus(), h.readAheadKb(), h.vmmThpAdvice(), h.kernel());
        }
        if (readAhead != null) out.printf("read_ahead_kb set to %d for this run (was %d)%n", readAhead.kb(), readAhead.previousKb());
        out.println();
        List<String> phases = phases();
        // The experiment only needs a column when there are several (the same cell can appear in two).
        boolean experiments = results.stream().map(BenchResult::experiment).distinct().count() > 1;
        List<String> cols = new ArrayList<>(List.of("function", "mode", "input", "P", "n", "median ms", "min", "max"));
        if (experiments) cols.addFirst("experiment");
        int textCols = experiments ? 4 : 3;
        cols.addAll(phases);
        cols.addAll(List.of("faults", "disk MiB", "WS MiB", "LS MiB", "vs vanilla"));
        List<List<String>> rows = new ArrayList<>();
        for (BenchResult r : results) {
            List<String> row = new ArrayList<>(List.of(r.function(), r.mode(), r.input(), Integer.toString(r.parallelism()),
                    r.invocations() + (r.errors() > 0 ? "+" + r.errors() + "err" : ""),
                    ms(r.totalMs().median()), ms(r.totalMs().min()), ms(r.totalMs().max())));
            if (experiments) row.addFirst(r.experiment());
            for (String p : phases) row.add(r.phasesMs().containsKey(p) ? ms(r.phasesMs().get(p)) : "-");
            row.add(count(r.memoryMedian("major_faults")));
            row.add(mib(r.memoryMedian("disk_read_bytes")));
            row.add(mib(r.memoryMedian("working_set_pages") * 4096));
            row.add(mib(r.memoryMedian("loading_set_pages") * 4096));
            row.add(r.vsVanilla() == null ? "-" : vsVanilla(r.vsVanilla()));
            rows.add(row);
        }
        int[] w = new int[cols.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = cols.get(i).length();
            for (List<String> row : rows) w[i] = Math.max(w[i], row.get(i).length());
        }
        StringBuilder head = new StringBuilder();
        for (int i = 0; i < w.length; i++) head.append(pad(cols.get(i), w[i], i < textCols)).append(i + 1 < w.length ? "  " : "");
        out.println(head);
        out.println("-".repeat(head.length()));
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < w.length; i++) line.append(pad(row.get(i), w[i], i < textCols)).append(i + 1 < w.length ? "  " : "");
            out.println(line);
        }
        out.println();
        out.println("medians over all invocations (n); phases in ms; '-' = not reported; WS/LS = working/loading set;");
        out.println("vs vanilla = median over runs of (this run / vanilla's run of the same round), and in how many runs it was faster;");
        out.println(Percentiles.NOTE);
        for (BenchRunner.Skip s : skipped) out.println("skipped " + s.what() + ": " + s.reason());
        if (aborted != null) out.println("STOPPED EARLY: " + aborted);
    }

    /** "0.81 (5/5)": the median run-by-run ratio to vanilla and the runs in which this mode was faster. */
    static String vsVanilla(BenchResult.Paired p) {
        return String.format(Locale.ROOT, "%.2f (%d/%d)", p.medianRatio(), p.runsFaster(), p.runs());
    }

    private static String pad(String s, int w, boolean left) {
        return left ? s + " ".repeat(w - s.length()) : " ".repeat(w - s.length()) + s;
    }

    static String ms(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    static String count(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f", v);
    }

    static String mib(double bytes) {
        return Double.isNaN(bytes) ? "-" : String.format(Locale.ROOT, "%.1f", bytes / (1 << 20));
    }
}
