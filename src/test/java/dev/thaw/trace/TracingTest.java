package dev.thaw.trace;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** W3C {@code traceparent} in and out: a caller's trace continues through thaw. */
class TracingTest {
    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String SPAN = "00f067aa0ba902b7";

    private static SpanContext spanOf(Context c) {
        return io.opentelemetry.api.trace.Span.fromContext(c).getSpanContext();
    }

    @Test
    void extractReadsTheCallersSpan() {
        SpanContext sc = spanOf(Tracing.extract("00-" + TRACE + "-" + SPAN + "-01"));
        assertTrue(sc.isValid());
        assertTrue(sc.isRemote());
        assertTrue(sc.isSampled());
        assertEquals(TRACE, sc.getTraceId());
        assertEquals(SPAN, sc.getSpanId());
        assertEquals(TRACE, spanOf(Tracing.extract("  00-" + TRACE + "-" + SPAN + "-01 ")).getTraceId(), "whitespace is trimmed");
        assertFalse(spanOf(Tracing.extract("00-" + TRACE + "-" + SPAN + "-00")).isSampled());
    }

    @Test
    void traceparentWritesTheW3cHeader() {
        SpanContext sc = SpanContext.create(TRACE, SPAN, TraceFlags.getSampled(), TraceState.getDefault());
        assertEquals("00-" + TRACE + "-" + SPAN + "-01", Tracing.traceparent(sc));
    }

    @Test
    void roundTrip() {
        String header = "00-" + TRACE + "-" + SPAN + "-01";
        assertEquals(header, Tracing.traceparent(spanOf(Tracing.extract(header))));
    }

    @Test
    void absentOrMalformedHeadersStartANewTrace() {
        for (String bad : new String[]{null, "", "   ", "garbage", "00-" + TRACE + "-" + SPAN,
                "00-00000000000000000000000000000000-" + SPAN + "-01", "00-" + TRACE + "-0000000000000000-01",
                "00-" + TRACE.toUpperCase() + "-" + SPAN + "-01", "ff-" + TRACE + "-" + SPAN + "-01"}) {
            assertFalse(spanOf(Tracing.extract(bad)).isValid(), "\"" + bad + "\" is no parent");
        }
    }

    @Test
    void anInvocationUnderAnExtractedParentContinuesTheTraceAndAnswersWithItsOwnSpan() {
        try (Tracing tracing = new Tracing(10, null)) {
            var span = tracing.tracer().spanBuilder("invoke hello").setParent(Tracing.extract("00-" + TRACE + "-" + SPAN + "-01"))
                    .setAttribute(TraceStore.FUNCTION, "hello").startSpan();
            String answer = Tracing.traceparent(span.getSpanContext());
            span.end();

            assertTrue(answer.matches("00-" + TRACE + "-[0-9a-f]{16}-0[13]"), answer);
            assertNotEquals(SPAN, answer.substring(36, 52), "the answer names thaw's span, not the caller's");
            Span stored = tracing.store().get(TRACE).spans().getFirst();
            assertEquals(SPAN, stored.parentId(), "the caller's span is the parent");
            assertEquals(answer.substring(36, 52), stored.spanId());
            // A second hop continuing thaw's answer stays in the same trace, under thaw's span.
            assertEquals(answer.substring(36, 52), spanOf(Tracing.extract(answer)).getSpanId());
        }
    }
}
