package dev.thaw.trace;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The daemon's trace memory, fed as the daemon feeds it: spans from the OpenTelemetry SDK
 * tracer of {@link Tracing}, exported synchronously as each one ends.
 */
class TraceStoreTest {
    /** 2024-01-01T00:00:00Z in epoch microseconds: a fixed origin for span times. */
    static final long T0_US = 1_704_067_200_000_000L;

    Tracing tracing;

    @AfterEach
    void close() {
        if (tracing != null) tracing.close();
    }

    private TraceStore store(int maxTraces) {
        tracing = new Tracing(maxTraces, null);
        return tracing.store();
    }

    /** Ends a span of {@code function} at [startUs, endUs) under {@code parent}; returns it. */
    private io.opentelemetry.api.trace.Span span(String name, String function, Context parent, long startUs, long endUs) {
        var s = tracing.tracer().spanBuilder(name).setParent(parent)
                .setStartTimestamp(startUs * 1000, TimeUnit.NANOSECONDS)
                .setAttribute(TraceStore.FUNCTION, function).startSpan();
        s.end(endUs * 1000, TimeUnit.NANOSECONDS);
        return s;
    }

    /** A one-span trace (a root invocation); returns its trace id. */
    private String trace(String function, long startUs) {
        return span("invoke " + function, function, Context.root(), startUs, startUs + 100).getSpanContext().getTraceId();
    }

    @Test
    void keepsTheNewestTracesAndDropsTheOldestBeyondTheBound() {
        TraceStore store = store(2);
        String t1 = trace("a", T0_US);
        String t2 = trace("b", T0_US + 1_000);
        assertNotNull(store.get(t1));
        String t3 = trace("c", T0_US + 2_000);

        assertNull(store.get(t1), "the oldest trace was dropped");
        assertNotNull(store.get(t2));
        assertNotNull(store.get(t3));
        assertEquals(List.of(t3, t2), ids(store.query(null, 0, 10)));
    }

    @Test
    void aTraceThatGetsANewSpanCountsAsRecent() {
        TraceStore store = store(2);
        // A long root whose child ends first: the trace is in the store before its root ends.
        var root = tracing.tracer().spanBuilder("invoke a").setStartTimestamp(T0_US * 1000, TimeUnit.NANOSECONDS)
                .setAttribute(TraceStore.FUNCTION, "a").startSpan();
        span("guest_exec", "a", Context.root().with(root), T0_US + 10, T0_US + 50);
        String a = root.getSpanContext().getTraceId();
        String b = trace("b", T0_US + 20);
        root.end((T0_US + 900) * 1000, TimeUnit.NANOSECONDS); // a is now the most recently updated
        String c = trace("c", T0_US + 30);

        assertNull(store.get(b), "b was the least recently updated");
        assertEquals(2, store.get(a).spans().size());
        assertNotNull(store.get(c));
    }

    @Test
    void readingATraceDoesNotKeepItAlive() {
        TraceStore store = store(2);
        String t1 = trace("a", T0_US);
        String t2 = trace("b", T0_US + 1_000);
        assertNotNull(store.get(t1)); // a read is not an update
        trace("c", T0_US + 2_000);
        assertNull(store.get(t1));
        assertNotNull(store.get(t2));
    }

    @Test
    void queryFiltersByFunctionSinceAndLimitNewestFirst() {
        TraceStore store = store(100);
        // Traces 0..5, one ms apart; even ones call "worker" from "driver", odd ones are "solo".
        String[] ids = new String[6];
        for (int i = 0; i < 6; i++) {
            long start = T0_US + i * 1_000L;
            if (i % 2 == 0) {
                var root = tracing.tracer().spanBuilder("invoke driver").setStartTimestamp(start * 1000, TimeUnit.NANOSECONDS)
                        .setAttribute(TraceStore.FUNCTION, "driver").startSpan();
                span("invoke worker", "worker", Context.root().with(root), start + 10, start + 90);
                root.end((start + 100) * 1000, TimeUnit.NANOSECONDS);
                ids[i] = root.getSpanContext().getTraceId();
            } else {
                ids[i] = trace("solo", start);
            }
        }
        assertEquals(List.of(ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]), ids(store.query(null, 0, 100)));
        assertEquals(List.of(ids[4], ids[2], ids[0]), ids(store.query("worker", 0, 100)), "a callee's traces too");
        assertEquals(List.of(ids[4], ids[2], ids[0]), ids(store.query("driver", 0, 100)));
        assertEquals(List.of(ids[5], ids[3], ids[1]), ids(store.query("solo", 0, 100)));
        assertEquals(List.of(), ids(store.query("nobody", 0, 100)));
        // since compares with the trace's first span start; the bound is inclusive.
        assertEquals(List.of(ids[5], ids[4], ids[3]), ids(store.query(null, T0_US + 3_000, 100)));
        assertEquals(List.of(ids[4]), ids(store.query("worker", T0_US + 3_000, 100)));
        assertEquals(List.of(ids[5], ids[4]), ids(store.query(null, 0, 2)));
        assertEquals(List.of(ids[4]), ids(store.query("driver", 0, 1)));
    }

    @Test
    void spansKeepFunctionParentTimesAndTags() {
        TraceStore store = store(10);
        var root = tracing.tracer().spanBuilder("invoke a").setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(T0_US * 1000, TimeUnit.NANOSECONDS)
                .setAttribute(TraceStore.FUNCTION, "a").setAttribute("faas.coldstart", true)
                .setAttribute("thaw.coldstart_ms", 12.5).startSpan();
        var exec = span("guest_exec", "a", Context.root().with(root), T0_US + 100, T0_US + 700);
        var async = tracing.tracer().spanBuilder("invoke b").setParent(Context.root().with(exec))
                .setStartTimestamp((T0_US + 200) * 1000, TimeUnit.NANOSECONDS)
                .setAttribute(TraceStore.FUNCTION, "b").setAttribute(TraceStore.ASYNC, true).startSpan();
        async.setStatus(StatusCode.ERROR, "the handler raised");
        async.end((T0_US + 300) * 1000, TimeUnit.NANOSECONDS);
        var anonymous = tracing.tracer().spanBuilder("other").setStartTimestamp(T0_US * 1000, TimeUnit.NANOSECONDS).startSpan();
        anonymous.end((T0_US + 1) * 1000, TimeUnit.NANOSECONDS);
        root.end((T0_US + 800) * 1000, TimeUnit.NANOSECONDS);

        Trace t = store.get(root.getSpanContext().getTraceId());
        Span r = find(t, "invoke a");
        assertNull(r.parentId());
        assertEquals("a", r.function());
        assertEquals(T0_US, r.startUs());
        assertEquals(800, r.durationUs());
        assertEquals("true", r.tag("faas.coldstart"));
        assertEquals("12.5", r.tag("thaw.coldstart_ms"));
        assertEquals("server", r.tag("span.kind"));
        assertFalse(r.error());

        Span e = find(t, "guest_exec");
        assertEquals(r.spanId(), e.parentId());
        assertEquals(Span.RefType.CHILD_OF, e.refType());
        assertNull(e.tag("span.kind"), "internal spans carry no kind");

        Span b = find(t, "invoke b");
        assertEquals(e.spanId(), b.parentId());
        assertEquals(Span.RefType.FOLLOWS_FROM, b.refType(), "thaw.call.async marks a call not waited for");
        assertTrue(b.error());

        Trace other = store.get(anonymous.getSpanContext().getTraceId());
        assertEquals("thaw", other.spans().getFirst().function(), "a span without thaw.function belongs to thaw");
    }

    private static Span find(Trace t, String operation) {
        return t.spans().stream().filter(s -> s.operation().equals(operation)).findFirst().orElseThrow();
    }

    private static List<String> ids(List<Trace> traces) {
        return traces.stream().map(Trace::traceId).toList();
    }
}
