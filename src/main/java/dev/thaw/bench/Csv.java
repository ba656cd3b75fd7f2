package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every invocation of a benchmark as CSV (RFC 4180), one row each, for analyses the summary does
 * not anticipate. The columns are fixed for the phases and memory counters thaw knows, so files
 * from different runs line up; fields a newer daemon adds get columns after them. Empty cells
 * mean "not reported" (a phase that does not happen in that mode, a failed invocation).
 */
public final class Csv {
    private Csv() {}

    public static void write(List<Invocation> invocations, Path file) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        Files.writeString(file, render(invocations));
    }

    public static String render(List<Invocation> invocations) {
        Set<String> phaseKeys = new LinkedHashSet<>(BenchResult.PHASES);
        Set<String> memoryKeys = new LinkedHashSet<>(BenchResult.MEMORY);
        for (Invocation i : invocations) {
            if (!i.ok()) continue;
            i.response().path("timing_ms").fieldNames().forEachRemaining(phaseKeys::add);
            memoryKeys.addAll(flatMemory(i.response().path("memory")).keySet());
        }
        phaseKeys.remove("total");
        List<String> phases = BenchResult.ordered(phaseKeys, BenchResult.PHASES);
        List<String> memory = BenchResult.ordered(memoryKeys, BenchResult.MEMORY);

        List<String> header = new ArrayList<>(List.of("experiment", "function", "mode", "input", "parallelism", "run", "slot", "total_ms"));
        phases.forEach(p -> header.add(p + "_ms"));
        header.add("client_ms");
        header.addAll(memory);
        header.addAll(List.of("instance", "cold_start", "error_code", "error", "warnings"));

        StringBuilder out = new StringBuilder();
        line(out, header);
        for (Invocation i : invocations) {
            JsonNode r = i.ok() ? i.response() : MissingNode.getInstance();
            List<String> row = new ArrayList<>(List.of(i.experiment(), i.function(), i.mode(), i.input(),
                    Integer.toString(i.parallelism()), Integer.toString(i.run()), Integer.toString(i.slot()),
                    number(r.path("timing_ms").path("total"))));
            for (String p : phases) row.add(number(r.path("timing_ms").path(p)));
            row.add(String.format(Locale.ROOT, "%.3f", i.clientMs()));
            Map<String, JsonNode> flat = flatMemory(r.path("memory"));
            for (String m : memory) row.add(number(flat.getOrDefault(m, MissingNode.getInstance())));
            row.add(r.path("instance").asText(""));
            row.add(r.path("cold_start").isTextual() ? r.path("cold_start").asText() : "");
            row.add(i.errorCode() == null ? "" : i.errorCode());
            row.add(i.error() == null ? "" : i.error());
            List<String> warnings = new ArrayList<>();
            r.path("warnings").forEach(w -> warnings.add(w.asText()));
            row.add(String.join("; ", warnings));
            line(out, row);
        }
        return out.toString();
    }

    /** The memory counters with nested objects flattened: {@code uffd.faults} becomes the column {@code uffd_faults}. */
    static Map<String, JsonNode> flatMemory(JsonNode memory) {
        Map<String, JsonNode> flat = new java.util.LinkedHashMap<>();
        memory.properties().forEach(e -> {
            if (e.getValue().isObject()) e.getValue().properties().forEach(sub -> flat.put(e.getKey() + "_" + sub.getKey(), sub.getValue()));
            else flat.put(e.getKey(), e.getValue());
        });
        return flat;
    }

    private static String number(JsonNode n) {
        if (!n.isNumber()) return "";
        return n.isIntegralNumber() ? Long.toString(n.asLong()) : String.format(Locale.ROOT, "%.3f", n.asDouble());
    }

    private static void line(StringBuilder out, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) out.append(',');
            out.append(quote(cells.get(i)));
        }
        out.append("\r\n");
    }

    /** Quotes a cell when it holds a comma, quote or line break, doubling inner quotes. */
    static String quote(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
