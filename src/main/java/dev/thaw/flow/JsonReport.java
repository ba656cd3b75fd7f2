package dev.thaw.flow;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.common.Percentiles;

/**
 * The report as JSON: snake_case fields ({@code duration_p50_us}, {@code critical_path}), except
 * the sections' {@code spanId}, which keeps the name tracing tools use. The daemon's
 * {@code GET /flow} can serve {@link #toJson} as is. The summary names the percentile definition
 * ({@code "percentiles": "nearest rank"}, {@link Percentiles}) so a reader comparing with other
 * tools knows what p50 and p99 mean here.
 */
public final class JsonReport {
    private static final ObjectMapper MAPPER = Json.MAPPER.copy()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, false);

    private JsonReport() {}

    public static JsonNode toJson(FlowReport report) {
        ObjectNode json = MAPPER.valueToTree(report);
        if (json.get("summary") instanceof ObjectNode summary) summary.put("percentiles", Percentiles.DEFINITION);
        return json;
    }

    public static String render(FlowReport report) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(report)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the flow report as JSON", e);
        }
    }
}
