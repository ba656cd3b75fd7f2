package dev.thaw.trace;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Jaeger JSON as the query API returns it: {@code {"data": [{traceID, spans[], processes{}}]}}.
 * A span names its process by {@code processID} (or carries it inline as {@code process}); the
 * process's serviceName is the span's function. The parent is the first CHILD_OF reference into
 * the same trace, else the first FOLLOWS_FROM one.
 */
final class JaegerFormat {
    private JaegerFormat() {}

    static List<Trace> parse(JsonNode root) {
        JsonNode traces;
        if (root.isArray()) {
            traces = root;
        } else if (root.has("data")) {
            traces = root.get("data");
            if (!traces.isArray()) {
                throw new TraceFormatException("\"data\" is not an array of traces");
            }
        } else {
            traces = JsonFields.arrayOf(root);
        }
        List<Trace> result = new ArrayList<>(traces.size());
        for (int i = 0; i < traces.size(); i++) {
            String where = traces.size() > 1 ? "trace " + i + ": " : "";
            try {
                result.add(parseTrace(traces.get(i)));
            } catch (TraceFormatException e) {
                throw new TraceFormatException(where + e.getMessage(), e);
            }
        }
        return result;
    }

    private static Trace parseTrace(JsonNode trace) {
        if (!trace.isObject()) {
            throw new TraceFormatException("is not a trace object");
        }
        JsonNode spans = trace.get("spans");
        if (spans == null || !spans.isArray()) {
            throw new TraceFormatException("has no \"spans\" array");
        }
        Map<String, String> services = new HashMap<>();
        JsonNode processes = trace.get("processes");
        if (processes != null && processes.isObject()) {
            processes.properties().forEach(e -> {
                JsonNode name = e.getValue().get("serviceName");
                if (name != null && name.isTextual()) {
                    services.put(e.getKey(), name.asText());
                }
            });
        }
        String traceId = JsonFields.text(trace, "traceID");
        List<Span> result = new ArrayList<>(spans.size());
        for (int i = 0; i < spans.size(); i++) {
            result.add(parseSpan(i, spans.get(i), services, traceId));
        }
        if (traceId == null) {
            if (result.isEmpty()) {
                throw new TraceFormatException("has no traceID and no spans");
            }
            traceId = result.getFirst().traceId();
        }
        return new Trace(traceId, result);
    }

    private static Span parseSpan(int index, JsonNode span, Map<String, String> services, String traceTraceId) {
        String what = "span " + index;
        if (!span.isObject()) {
            throw new TraceFormatException(what + " is not an object");
        }
        String traceId = JsonFields.text(span, "traceID");
        if (traceId == null) {
            throw new TraceFormatException(what + " has no traceID");
        }
        String spanId = JsonFields.text(span, "spanID");
        if (spanId == null) {
            throw new TraceFormatException(what + " has no spanID");
        }
        what = what + " (" + spanId + ")";
        if (traceTraceId != null && !traceTraceId.equals(traceId)) {
            throw new TraceFormatException(what + " has traceID " + traceId + " inside trace " + traceTraceId);
        }
        long start = JsonFields.micros(span, "startTime", what);
        long duration = JsonFields.micros(span, "duration", what);
        if (duration < 0) {
            throw new TraceFormatException(what + " has a negative duration " + duration);
        }
        String service = service(span, services, what);

        String parentId = null;
        Span.RefType refType = null;
        JsonNode refs = span.get("references");
        if (refs != null && refs.isArray()) {
            for (JsonNode ref : refs) {
                String refTrace = JsonFields.text(ref, "traceID");
                String refSpan = JsonFields.text(ref, "spanID");
                if (refSpan == null || (refTrace != null && !refTrace.equals(traceId))) {
                    continue; // a link into another trace is not a parent here
                }
                boolean follows = "FOLLOWS_FROM".equalsIgnoreCase(JsonFields.text(ref, "refType"));
                if (!follows) {
                    parentId = refSpan;
                    refType = Span.RefType.CHILD_OF;
                    break;
                }
                if (parentId == null) {
                    parentId = refSpan;
                    refType = Span.RefType.FOLLOWS_FROM;
                }
            }
        }
        if (parentId == null) {
            // Older Jaeger JSON (the internal model) carries the parent as a field.
            String legacy = JsonFields.text(span, "parentSpanID");
            if (legacy != null && !legacy.isEmpty() && !legacy.matches("0+")) {
                parentId = legacy;
                refType = Span.RefType.CHILD_OF;
            }
        }
        return new Span(traceId, spanId, parentId, refType, service, JsonFields.text(span, "operationName"),
                start, duration, JsonFields.tags(span.get("tags")));
    }

    private static String service(JsonNode span, Map<String, String> services, String what) {
        JsonNode inline = span.get("process");
        if (inline != null && inline.isObject() && inline.path("serviceName").isTextual()) {
            return inline.get("serviceName").asText();
        }
        String processId = JsonFields.text(span, "processID");
        if (processId == null) {
            throw new TraceFormatException(what + " has no processID");
        }
        String service = services.get(processId);
        if (service == null) {
            throw new TraceFormatException(what + " has processID " + processId + " that is not in \"processes\"");
        }
        return service;
    }
}
