package dev.thaw.trace;

import dev.thaw.model.Phase;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

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

    // Phase spans are named by the Phase enum's ids (the same names as timing_ms fields).
    public static final String VMM_START = Phase.VMM_START.id();
    public static final String STATE_LOAD = Phase.STATE_LOAD.id();
    public static final String PREFETCH = Phase.PREFETCH.id();
    public static final String RESUME = Phase.RESUME.id();
    public static final String GUEST_EXEC = Phase.GUEST_EXEC.id();

    /** Child spans of an invocation that bring its instance up (restore or boot): their time is cold-start time. */
    public static final Set<String> RESTORE_PHASES = Arrays.stream(Phase.values()).filter(Phase::startup)
            .map(Phase::id).collect(Collectors.toUnmodifiableSet());
    /** All phase child spans, start-up and guest execution; they belong to their invocation's function. */
    public static final Set<String> PHASES = Arrays.stream(Phase.values()).filter(p -> p != Phase.HOST_OVERHEAD)
            .map(Phase::id).collect(Collectors.toUnmodifiableSet());

    private SpanTags() {}
}
