package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Builds traces by hand for tests: {@code trace("t", span("a", null, 0, 100), span("b", "a", 10, 40))}. */
final class TestTraces {
    private TestTraces() {}

    /** A CHILD_OF span of function "svc" from start to end (µs). */
    static Span span(String id, String parent, long start, long end) {
        return span(id, parent, "svc", start, end);
    }

    static Span span(String id, String parent, String function, long start, long end) {
        return new Span("t", id, parent, Span.RefType.CHILD_OF, function, "op-" + id, start, end - start, Map.of());
    }

    static Span follows(String id, String parent, long start, long end) {
        return new Span("t", id, parent, Span.RefType.FOLLOWS_FROM, "svc", "op-" + id, start, end - start, Map.of());
    }

    static Span withTags(Span span, String... keyValues) {
        Map<String, String> tags = new HashMap<>(span.tags());
        for (int i = 0; i < keyValues.length; i += 2) {
            tags.put(keyValues[i], keyValues[i + 1]);
        }
        return new Span(span.traceId(), span.spanId(), span.parentId(), span.refType(), span.function(),
                span.operation(), span.startUs(), span.durationUs(), tags);
    }

    static Span named(Span span, String operation) {
        return new Span(span.traceId(), span.spanId(), span.parentId(), span.refType(), span.function(),
                operation, span.startUs(), span.durationUs(), span.tags());
    }

    static Trace trace(Span... spans) {
        return new Trace("t", Arrays.asList(spans));
    }

    static Trace trace(String id, Span... spans) {
        List<Span> renamed = new ArrayList<>();
        for (Span s : spans) {
            renamed.add(new Span(id, s.spanId(), s.parentId(), s.refType(), s.function(), s.operation(),
                    s.startUs(), s.durationUs(), s.tags()));
        }
        return new Trace(id, renamed);
    }

    /** The path as "id start-end" strings, easy to compare and to read in a failure message. */
    static List<String> path(Trace trace, AsyncPolicy policy) {
        return path(trace, policy, w -> {});
    }

    static List<String> path(Trace trace, AsyncPolicy policy, Consumer<String> warn) {
        return CriticalPath.compute(trace, policy, warn).sections().stream()
                .map(s -> s.spanId() + " " + s.startUs() + "-" + s.endUs())
                .toList();
    }
}
