package dev.thaw.trace;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Zipkin v2 JSON: an array of spans {@code {traceId, id, parentId, name, timestamp, duration, kind,
 * localEndpoint{serviceName}, tags{}}}, or the API's array of traces (arrays of spans).
 *
 * <p>Zipkin lets an RPC's client and server halves share one span id (the server half is marked
 * {@code shared}). Analysis needs one id per span, so the server half becomes
 * {@code <id>:server}, a child of the client half, and children of the shared id that run in the
 * server's service move under it — the same tree Zipkin's UI draws.
 */
final class ZipkinFormat {
    static final String SERVER_SUFFIX = ":server";

    private ZipkinFormat() {}

    static List<Trace> parse(JsonNode root) {
        List<JsonNode> spans = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode item = root.get(i);
            if (item.isArray()) {
                for (int j = 0; j < item.size(); j++) {
                    spans.add(item.get(j));
                    names.add("trace " + i + ": span " + j);
                }
            } else {
                spans.add(item);
                names.add("span " + i);
            }
        }
        Map<String, List<Span>> byTrace = new LinkedHashMap<>();
        for (int i = 0; i < spans.size(); i++) {
            Span span = parseSpan(names.get(i), spans.get(i));
            byTrace.computeIfAbsent(span.traceId(), id -> new ArrayList<>()).add(span);
        }
        List<Trace> traces = new ArrayList<>(byTrace.size());
        byTrace.forEach((id, list) -> traces.add(new Trace(id, splitSharedSpans(list))));
        return traces;
    }

    private static Span parseSpan(String what, JsonNode span) {
        if (!span.isObject()) {
            throw new TraceFormatException(what + " is not an object");
        }
        String traceId = JsonFields.text(span, "traceId");
        if (traceId == null) {
            throw new TraceFormatException(what + " has no traceId");
        }
        String id = JsonFields.text(span, "id");
        if (id == null) {
            throw new TraceFormatException(what + " has no id");
        }
        what = what + " (" + id + ")";
        long start = JsonFields.micros(span, "timestamp", what);
        long duration = JsonFields.micros(span, "duration", what);
        if (duration < 0) {
            throw new TraceFormatException(what + " has a negative duration " + duration);
        }
        String service = JsonFields.text(span.path("localEndpoint"), "serviceName");
        if (service == null || service.isEmpty()) {
            service = "unknown"; // Zipkin's own name for a span without a local service
        }
        Map<String, String> tags = new HashMap<>(JsonFields.tags(span.get("tags")));
        String kind = JsonFields.text(span, "kind");
        if (kind != null) {
            tags.put("span.kind", kind.toLowerCase(java.util.Locale.ROOT));
        }
        if (span.path("shared").asBoolean(false)) {
            tags.put("zipkin.shared", "true");
        }
        String parentId = JsonFields.text(span, "parentId");
        return new Span(traceId, id, parentId, null, service, JsonFields.text(span, "name"), start, duration, tags);
    }

    /** Gives the server half of a shared client/server span its own id; see the class comment. */
    private static List<Span> splitSharedSpans(List<Span> spans) {
        Map<String, List<Span>> byId = new HashMap<>();
        for (Span span : spans) {
            byId.computeIfAbsent(span.spanId(), id -> new ArrayList<>()).add(span);
        }
        Map<String, Span> serverOf = new HashMap<>(); // shared id -> renamed server half
        List<Span> result = new ArrayList<>(spans.size());
        for (Span span : spans) {
            List<Span> same = byId.get(span.spanId());
            if (same.size() > 1 && isServer(span) && same.stream().anyMatch(s -> s != span && !isServer(s))) {
                Span server = new Span(span.traceId(), span.spanId() + SERVER_SUFFIX, span.spanId(),
                        Span.RefType.CHILD_OF, span.function(), span.operation(), span.startUs(),
                        span.durationUs(), span.tags());
                serverOf.putIfAbsent(span.spanId(), server);
                result.add(server);
            } else {
                result.add(span);
            }
        }
        if (serverOf.isEmpty()) {
            return result;
        }
        List<Span> reparented = new ArrayList<>(result.size());
        for (Span span : result) {
            Span server = span.parentId() == null ? null : serverOf.get(span.parentId());
            boolean moves = server != null && server != span && span.function().equals(server.function());
            reparented.add(moves ? span.withParent(server.spanId(), span.refType()) : span);
        }
        return reparented;
    }

    private static boolean isServer(Span span) {
        return "server".equals(span.tag("span.kind")) || "true".equals(span.tag("zipkin.shared"));
    }
}
