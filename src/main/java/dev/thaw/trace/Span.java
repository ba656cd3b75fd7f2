package dev.thaw.trace;

import java.util.Map;
import java.util.Objects;

/**
 * One span of a trace, reduced to what flow analysis needs.
 *
 * <p>{@code function} is the span's service name (Jaeger process serviceName, Zipkin
 * localEndpoint.serviceName): in thaw every function is its own service. {@code parentId} is
 * null for a root. Times are microseconds since the epoch, as both Jaeger and Zipkin store them.
 * Tag values are kept as strings whatever their JSON type ({@code true}, {@code 12.5}).
 */
public record Span(String traceId, String spanId, String parentId, RefType refType,
                   String function, String operation, long startUs, long durationUs,
                   Map<String, String> tags) {

    /** How a span relates to its parent; FOLLOWS_FROM means the parent does not wait for it. */
    public enum RefType { CHILD_OF, FOLLOWS_FROM }

    public Span {
        Objects.requireNonNull(traceId, "traceId");
        Objects.requireNonNull(spanId, "spanId");
        Objects.requireNonNull(function, "function");
        operation = operation == null ? "" : operation;
        refType = parentId == null ? null : (refType == null ? RefType.CHILD_OF : refType);
        tags = tags == null ? Map.of() : Map.copyOf(tags);
        if (durationUs < 0) {
            throw new IllegalArgumentException("span " + spanId + " has a negative duration " + durationUs);
        }
    }

    /** A root span (no parent) of a function, without tags; handy for building traces in code. */
    public static Span root(String traceId, String spanId, String function, String operation,
                            long startUs, long durationUs) {
        return new Span(traceId, spanId, null, null, function, operation, startUs, durationUs, Map.of());
    }

    public long endUs() {
        return startUs + durationUs;
    }

    public String tag(String key) {
        return tags.get(key);
    }

    /** True when the span is marked failed: Jaeger {@code error=true}, any Zipkin {@code error} tag, OTel status ERROR. */
    public boolean error() {
        String value = tags.get(SpanTags.ERROR);
        if (value != null) {
            // Zipkin puts the error message into the tag; Jaeger uses a bool.
            return !value.equalsIgnoreCase("false") && !value.isEmpty();
        }
        return "ERROR".equalsIgnoreCase(tags.get("otel.status_code"));
    }

    public Span withParent(String newParentId, RefType newRefType) {
        return new Span(traceId, spanId, newParentId, newRefType, function, operation, startUs, durationUs, tags);
    }
}
