package dev.thaw.platform;

import dev.thaw.trace.Tracing;
import io.opentelemetry.context.Context;

/**
 * Where an invocation comes from: the trace context it continues, how deep in a chain of
 * function-to-function calls it is (to stop cycles), and whether its caller waits for it.
 */
public record Call(Context parent, int depth, boolean async) {
    /** An invocation from outside, continuing the caller's W3C {@code traceparent} if it sent one. */
    public static Call external(String traceparent) {
        return new Call(Tracing.extract(traceparent), 0, false);
    }
}
