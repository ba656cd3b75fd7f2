package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where an invocation's time went, in milliseconds. Phases that did not happen (no VMM start on
 * a warm call, no boot on a restore) are null and left out of the JSON. {@code hostOverhead} is
 * what remains of {@code total} after the named phases: agent round trip, scheduling, JSON.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Timing(
        @JsonProperty("total") double total,
        @JsonProperty("vmm_start") Double vmmStart,
        @JsonProperty("state_load") Double stateLoad,
        @JsonProperty("prefetch") Double prefetch,
        @JsonProperty("resume") Double resume,
        @JsonProperty("boot") Double boot,
        @JsonProperty("function_load") Double functionLoad,
        @JsonProperty("guest_exec") double guestExec,
        @JsonProperty("host_overhead") double hostOverhead) {

    /** Accumulates phase times while an invocation runs. */
    static final class Clock {
        private final long start = System.nanoTime();
        private long mark = start;
        Double vmmStart, stateLoad, prefetch, resume, boot, functionLoad;
        /** A prefetch that ran beside the restore (FaaSnap) is reported but is not a slice of the total. */
        boolean prefetchConcurrent;

        /** Milliseconds since the previous lap (or the start). */
        double lap() {
            long now = System.nanoTime();
            double ms = (now - mark) / 1e6;
            mark = now;
            return ms;
        }

        Timing finish(double guestExec) {
            double total = (System.nanoTime() - start) / 1e6;
            double named = guestExec + n(vmmStart) + n(stateLoad) + (prefetchConcurrent ? 0 : n(prefetch))
                    + n(resume) + n(boot) + n(functionLoad);
            return new Timing(total, vmmStart, stateLoad, prefetch, resume, boot, functionLoad, guestExec,
                    Math.max(0, total - named));
        }

        private static double n(Double d) {
            return d == null ? 0 : d;
        }
    }
}
