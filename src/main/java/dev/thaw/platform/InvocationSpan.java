package dev.thaw.platform;

import dev.thaw.trace.SpanTags;
import dev.thaw.trace.TraceStore;
import dev.thaw.trace.Tracing;
import dev.thaw.model.Mode;
import dev.thaw.model.Phase;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The trace span of one invocation: opened when the request arrives, given the restore phases
 * and the guest execution as child spans when the answer is in, and ended exactly once.
 */
final class InvocationSpan {
    private final Tracing tracing;
    private final String function;
    private final Timing.Clock clock;
    private final Span span;
    private Span guestExec;
    private boolean ended;

    InvocationSpan(Tracing tracing, String function, String invocationId, Mode mode, Call call, Timing.Clock clock) {
        this.tracing = tracing;
        this.function = function;
        this.clock = clock;
        var b = tracing.tracer().spanBuilder(SpanTags.INVOKE_PREFIX + function)
                .setParent(call.parent())
                .setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(clock.startEpochNanos(), TimeUnit.NANOSECONDS)
                .setAttribute(TraceStore.FUNCTION, function)
                .setAttribute(SpanTags.INVOCATION_ID, invocationId)
                .setAttribute("thaw.mode", mode.id())
                .setAttribute("thaw.call.depth", call.depth());
        if (call.async()) b.setAttribute(TraceStore.ASYNC, true);
        this.span = b.startSpan();
    }

    Context context() {
        return Context.root().with(span);
    }

    /**
     * Opens the guest-execution child span as the request goes to the guest. Functions the
     * handler calls become its children, so a trace shows them inside the caller's execution.
     */
    Context beginGuestExec() {
        guestExec = tracing.tracer().spanBuilder(SpanTags.GUEST_EXEC).setParent(context())
                .setAttribute(TraceStore.FUNCTION, function).startSpan();
        return Context.root().with(guestExec);
    }

    String traceId() {
        return span.getSpanContext().getTraceId();
    }

    String traceparent() {
        return Tracing.traceparent(span.getSpanContext());
    }

    /** Records the outcome and the phases as child spans, then ends the span. */
    void finished(Timing timing, Mode coldStart, String instance, boolean ok) {
        span.setAttribute(SpanTags.COLDSTART, coldStart != null);
        span.setAttribute(SpanTags.INSTANCE, instance);
        if (coldStart != null) {
            span.setAttribute(SpanTags.RESTORE_STRATEGY, coldStart.id());
            span.setAttribute(SpanTags.COLDSTART_MS, clockColdStartMs());
        }
        for (Map.Entry<Phase, long[]> p : clock.phases().entrySet()) {
            child(p.getKey().id(), clock.epochNanos(p.getValue()[0]), clock.epochNanos(p.getValue()[1]));
        }
        long[] prefetch = clock.concurrentPrefetch();
        if (prefetch != null) child(Phase.PREFETCH.id(), clock.epochNanos(prefetch[0]), clock.epochNanos(prefetch[1]));
        long end = clock.epochNanos(clock.now());
        if (guestExec != null) {
            guestExec.setAttribute("thaw.guest_exec_ms", timing.guestExec());
            if (!ok) guestExec.setStatus(StatusCode.ERROR, "the handler raised");
            guestExec.end(end, TimeUnit.NANOSECONDS);
        }
        if (!ok) span.setStatus(StatusCode.ERROR, "the handler raised");
        ended = true;
        span.end(end, TimeUnit.NANOSECONDS);
    }

    private double clockColdStartMs() {
        return clock.coldStartMs();
    }

    /**
     * Records a concurrent prefetch that ended after the answer (the answer does not wait for it):
     * a child span of the already ended invocation span.
     */
    void latePrefetch(long startNanos, long endNanos) {
        child(Phase.PREFETCH.id(), clock.epochNanos(startNanos), clock.epochNanos(endNanos));
    }

    private void child(String name, long startEpochNanos, long endEpochNanos) {
        tracing.tracer().spanBuilder(name).setParent(context())
                .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
                .setAttribute(TraceStore.FUNCTION, function)
                .startSpan().end(endEpochNanos, TimeUnit.NANOSECONDS);
    }

    /** Ends a span that did not finish normally (VM failure, limit, bad snapshot). */
    void end() {
        if (ended) return;
        ended = true;
        if (guestExec != null) guestExec.end();
        span.setStatus(StatusCode.ERROR, "the invocation failed");
        span.setAttribute(SpanTags.ERROR, true);
        span.end();
    }
}
