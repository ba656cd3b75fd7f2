package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Percentiles;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The runs of one function in one mode, summarised: a row of the demo's and the benchmarks' tables. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModeResult(@JsonProperty("function") String function, @JsonProperty("mode") String mode,
                         @JsonProperty("runs") int runs, @JsonProperty("total_ms") Stats totalMs,
                         @JsonProperty("phases_ms") Map<String, Double> phasesMs) {

    /** Summarises invocation responses (each with a {@code timing_ms} object). */
    public static ModeResult of(String function, String mode, List<JsonNode> responses) {
        List<Double> totals = new ArrayList<>();
        Map<String, List<Double>> phases = new TreeMap<>();
        for (JsonNode r : responses) {
            JsonNode t = r.path("timing_ms");
            totals.add(t.path("total").asDouble());
            t.fieldNames().forEachRemaining(k -> {
                if (!k.equals("total")) phases.computeIfAbsent(k, x -> new ArrayList<>()).add(t.get(k).asDouble());
            });
        }
        Map<String, Double> medians = new TreeMap<>();
        phases.forEach((k, v) -> medians.put(k, Percentiles.median(v)));
        return new ModeResult(function, mode, responses.size(), Stats.of(totals), medians);
    }
}
