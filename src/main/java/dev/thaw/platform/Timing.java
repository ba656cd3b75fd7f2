package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

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

    /**
     * Accumulates phase times while an invocation runs. Each phase is the time since the previous
     * one ended; its start and end are kept (as epoch nanoseconds via {@link #epochNanos}) so the
     * phases can also become child spans of the invocation's trace span.
     */
    static final class Clock {
        private final long startNanos = System.nanoTime();
        private final long startEpochNanos;
        private long mark = startNanos;
        private final Map<String, long[]> phases = new LinkedHashMap<>();
        /** A prefetch that ran beside the restore (FaaSnap) is reported but is not a slice of the total. */
        private boolean prefetchConcurrent;

        Clock() {
            Instant now = Instant.now();
            startEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }

        /** Ends the phase {@code name} now; it began where the previous phase ended. Returns its ms. */
        double phase(String name) {
            long now = System.nanoTime();
            phases.put(name, new long[]{mark, now});
            double ms = (now - mark) / 1e6;
            mark = now;
            return ms;
        }

        /** Records a phase that ran concurrently with the others (it is not a slice of the total). */
        void concurrentPrefetch(long startNanos, double millis) {
            phases.put("prefetch", new long[]{startNanos, startNanos + (long) (millis * 1e6)});
            prefetchConcurrent = true;
        }

        Double ms(String name) {
            long[] p = phases.get(name);
            return p == null ? null : (p[1] - p[0]) / 1e6;
        }

        Map<String, long[]> phases() {
            return phases;
        }

        long epochNanos(long nanoTime) {
            return startEpochNanos + (nanoTime - startNanos);
        }

        long startEpochNanos() {
            return startEpochNanos;
        }

        /** Milliseconds the instance took to become ready: every phase before the guest ran the handler. */
        double coldStartMs() {
            double sum = 0;
            for (var e : phases.entrySet()) {
                if (!(prefetchConcurrent && e.getKey().equals("prefetch"))) sum += (e.getValue()[1] - e.getValue()[0]) / 1e6;
            }
            return sum;
        }

        Timing finish(double guestExec) {
            double total = (System.nanoTime() - startNanos) / 1e6;
            double named = guestExec + coldStartMs();
            return new Timing(total, ms("vmm_start"), ms("state_load"), ms("prefetch"), ms("resume"), ms("boot"),
                    ms("function_load"), guestExec, Math.max(0, total - named));
        }
    }
}
