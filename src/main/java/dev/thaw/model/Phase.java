package dev.thaw.model;

import java.util.Locale;

/**
 * The phases an invocation's time is split into. One list for every place that names them: the
 * response's {@code timing_ms}, the child spans of an invocation's trace, flow analysis, and the
 * bench's tables and charts. Order is the order they happen in.
 *
 * <p>A restore runs {@link #VMM_START} (or {@link #VMM_BIND} with a pre-started VMM), {@link #STATE_LOAD}, {@link #PREFETCH} (REAP: before the
 * resume; FaaSnap: beside the others, so not a slice of the total), {@link #RESUME}; a cold boot
 * runs {@link #VMM_START}, {@link #BOOT}, {@link #FUNCTION_LOAD}. Every invocation ends with
 * {@link #GUEST_EXEC} (the handler, timed by the guest) and {@link #HOST_OVERHEAD} (what is left
 * of the total: agent round trip, scheduling, JSON).
 */
public enum Phase {
    VMM_START(true),
    /** A pre-started VMM taken from the pool and bound to the snapshot (instead of {@link #VMM_START}). */
    VMM_BIND(true),
    STATE_LOAD(true),
    PREFETCH(true),
    RESUME(true),
    BOOT(true),
    FUNCTION_LOAD(true),
    GUEST_EXEC(false),
    HOST_OVERHEAD(false);

    private final boolean startup;

    Phase(boolean startup) {
        this.startup = startup;
    }

    /** True for the phases that bring an instance up (restore or boot): their time is cold-start time. */
    public boolean startup() {
        return startup;
    }

    /** The lowercase name used in JSON, span names and reports. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

}
