package dev.thaw.trace;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes traces in the two formats every tracing tool reads: Jaeger's query-API JSON
 * ({@code {"data": [trace…]}}) and Zipkin v2 JSON (a flat span array). Both round-trip through
 * {@link TraceReader}, so what the daemon serves is what {@code thaw flow} analyses.
 */
public final class TraceWriter {
    private TraceWriter() {}

    public static ObjectNode jaeger(List<Trace> traces) {
        ObjectNode root = Json.object();
        ArrayNode data = root.putArray("data");
        for (Trace t : traces) {
            ObjectNode jt = data.addObject().put("traceID", t.traceId());
            Map<String, String> processes = new LinkedHashMap<>();
            ArrayNode spans = jt.putArray("spans");
            for (Span s : t.spans()) {
                String pid = processes.computeIfAbsent(s.function(), f -> "p" + (processes.size() + 1));
                ObjectNode js = spans.addObject().put("traceID", s.traceId()).put("spanID", s.spanId())
                        .put("operationName", s.operation()).put("startTime", s.startUs()).put("duration", s.durationUs())
                        .put("processID", pid);
                ArrayNode refs = js.putArray("references");
                if (s.parentId() != null) {
                    refs.addObject().put("refType", s.refType().name()).put("traceID", s.traceId()).put("spanID", s.parentId());
                }
                ArrayNode tags = js.putArray("tags");
                s.tags().forEach((k, v) -> tag(tags, k, v));
            }
            ObjectNode procs = jt.putObject("processes");
            processes.forEach((f, pid) -> procs.putObject(pid).put("serviceName", f).putArray("tags"));
        }
        return root;
    }

    /**
     * A Jaeger tag with its type: booleans and numbers keep theirs, so tools display them right,
     * but only when the typed value prints back as the same text; "007", "0.50" or a number too
     * big for a long stay strings, so a round trip through {@link TraceReader} changes nothing.
     */
    private static void tag(ArrayNode tags, String key, String value) {
        ObjectNode t = tags.addObject().put("key", key);
        if (value.equals("true") || value.equals("false")) {
            t.put("type", "bool").put("value", Boolean.parseBoolean(value));
            return;
        }
        try {
            if (value.matches("-?\\d{1,19}")) {
                long l = Long.parseLong(value);
                if (Long.toString(l).equals(value)) {
                    t.put("type", "int64").put("value", l);
                    return;
                }
            } else if (value.matches("-?\\d+\\.\\d+([eE]-?\\d+)?")) {
                double d = Double.parseDouble(value);
                if (Double.toString(d).equals(value)) {
                    t.put("type", "float64").put("value", d);
                    return;
                }
            }
        } catch (NumberFormatException e) {
            // out of range for a long: kept as a string below
        }
        t.put("type", "string").put("value", value);
    }

    public static ArrayNode zipkin(List<Trace> traces) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (Trace t : traces) {
            for (Span s : t.spans()) {
                ObjectNode z = out.addObject().put("traceId", s.traceId()).put("id", s.spanId());
                if (s.parentId() != null) z.put("parentId", s.parentId());
                z.put("name", s.operation()).put("timestamp", s.startUs()).put("duration", s.durationUs());
                z.putObject("localEndpoint").put("serviceName", s.function());
                ObjectNode tags = z.putObject("tags");
                s.tags().forEach(tags::put);
            }
        }
        return out;
    }
}
