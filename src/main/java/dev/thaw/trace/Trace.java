package dev.thaw.trace;

import java.util.List;

/** The spans of one trace, in the order they were read. */
public record Trace(String traceId, List<Span> spans) {
    public Trace {
        spans = List.copyOf(spans);
    }
}
