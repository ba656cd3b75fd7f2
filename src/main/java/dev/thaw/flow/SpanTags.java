package dev.thaw.flow;

import java.util.Set;

/**
 * Names of the span tags and phase spans that thaw's daemon records for each invocation, and that
 * flow analysis reads. The daemon writes them; keep both sides on these constants.
 */
public final class SpanTags {
    /** Operation name of an invocation span is {@code "invoke " + function}. */
    public static final String INVOKE_PREFIX = "invoke ";
    /** bool: the invocation had to restore or boot an instance (OpenTelemetry FaaS convention). */
    public static final String COLDSTART = "faas.coldstart";
    /** string: cold | vanilla | cached | reap | faasnap. */
    public static final String RESTORE_STRATEGY = "thaw.restore.strategy";
    /** float: milliseconds the restore added to the invocation. */
    public static final String COLDSTART_MS = "thaw.coldstart_ms";
    public static final String INSTANCE = "thaw.instance";
    public static final String INVOCATION_ID = "thaw.invocation_id";
    public static final String ERROR = "error";

    public static final String VMM_START = "vmm_start";
    public static final String STATE_LOAD = "state_load";
    public static final String PREFETCH = "prefetch";
    public static final String RESUME = "resume";
    public static final String GUEST_EXEC = "guest_exec";

    /** Child spans of an invocation that are restore work: their time is cold-start time. */
    public static final Set<String> RESTORE_PHASES = Set.of(VMM_START, STATE_LOAD, PREFETCH, RESUME);
    /** All phase child spans, restore and guest execution; they belong to their invocation's function. */
    public static final Set<String> PHASES = Set.of(VMM_START, STATE_LOAD, PREFETCH, RESUME, GUEST_EXEC);

    private SpanTags() {}
}
