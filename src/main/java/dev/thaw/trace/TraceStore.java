package dev.thaw.trace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The daemon's memory of recent traces: an OpenTelemetry {@link SpanExporter} that keeps the
 * last {@code maxTraces} traces (least recently updated dropped first) as flow {@link Span}s, so
 * {@code GET /traces} and the flow analysis read them without any conversion at query time.
 * Bounded by construction: a busy daemon forgets old traces instead of growing.
 */
public final class TraceStore implements SpanExporter {
    /** Attribute naming the function a span belongs to (its "service" in Jaeger/Zipkin terms). */
    public static final AttributeKey<String> FUNCTION = AttributeKey.stringKey("thaw.function");
    /** Attribute marking a call whose caller does not wait for it (becomes FOLLOWS_FROM). */
    public static final AttributeKey<Boolean> ASYNC = AttributeKey.booleanKey("thaw.call.async");

    private final int maxTraces;
    private final LinkedHashMap<String, List<Span>> traces;

    public TraceStore(int maxTraces) {
        this.maxTraces = maxTraces;
        this.traces = new LinkedHashMap<>();
    }

    @Override
    public synchronized CompletableResultCode export(Collection<SpanData> spans) {
        for (SpanData d : spans) {
            // Re-inserting moves the trace to the end: the map is in order of last update, and a
            // read (GET /traces/{id}) does not count as one, unlike in an access-ordered map.
            List<Span> trace = traces.remove(d.getTraceId());
            if (trace == null) trace = new ArrayList<>();
            trace.add(toSpan(d));
            traces.put(d.getTraceId(), trace);
        }
        while (traces.size() > maxTraces) {
            traces.remove(traces.keySet().iterator().next());
        }
        return CompletableResultCode.ofSuccess();
    }

    static Span toSpan(SpanData d) {
        Map<String, String> tags = new HashMap<>();
        d.getAttributes().forEach((k, v) -> tags.put(k.getKey(), String.valueOf(v)));
        if (d.getStatus().getStatusCode() == StatusCode.ERROR) tags.put(SpanTags.ERROR, "true");
        if (d.getKind() != SpanKind.INTERNAL) tags.put("span.kind", d.getKind().name().toLowerCase());
        String parent = d.getParentSpanContext().isValid() ? d.getParentSpanId() : null;
        Span.RefType ref = Boolean.TRUE.equals(d.getAttributes().get(ASYNC)) ? Span.RefType.FOLLOWS_FROM : Span.RefType.CHILD_OF;
        String function = d.getAttributes().get(FUNCTION);
        long startUs = d.getStartEpochNanos() / 1000;
        return new Span(d.getTraceId(), d.getSpanId(), parent, ref, function == null ? "thaw" : function,
                d.getName(), startUs, Math.max(0, d.getEndEpochNanos() / 1000 - startUs), tags);
    }

    /**
     * Recent traces, newest first: those with a span of {@code function} (any when null) that
     * started at or after {@code sinceUs}, at most {@code limit}.
     */
    public synchronized List<Trace> query(String function, long sinceUs, int limit) {
        List<Trace> out = new ArrayList<>();
        List<Map.Entry<String, List<Span>>> all = new ArrayList<>(traces.entrySet());
        all.sort(Comparator.comparingLong((Map.Entry<String, List<Span>> e) ->
                e.getValue().stream().mapToLong(Span::startUs).min().orElse(0)).reversed());
        for (var e : all) {
            if (out.size() >= limit) break;
            List<Span> spans = e.getValue();
            if (function != null && spans.stream().noneMatch(s -> s.function().equals(function))) continue;
            if (spans.stream().mapToLong(Span::startUs).min().orElse(0) < sinceUs) continue;
            out.add(new Trace(e.getKey(), List.copyOf(spans)));
        }
        return out;
    }

    public synchronized Trace get(String traceId) {
        List<Span> spans = traces.get(traceId);
        return spans == null ? null : new Trace(traceId, List.copyOf(spans));
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
    }
}
