package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.model.Phase;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where an invocation's time went, in milliseconds. Phases that did not happen (no VMM start on
 * a warm call, no boot on a restore, {@code vmm_bind} instead of {@code vmm_start} when a
 * pre-started VMM was used) are null and left out of the JSON. {@code hostOverhead} is
 * what remains of {@code total} after the named phases: agent round trip, scheduling, JSON.
 * {@code reseed} is the guest's own timing of a restored clone's reseed and {@code after_restore}
 * hooks (first call after a restore only), a named part of the total like {@code guest_exec}.
 *
 * <p>A prefetch that runs beside the restore (FaaSnap) is not a slice of {@code total}: the
 * answer never waits for it. When it finished before the answer, {@code prefetch} is its length
 * and {@code prefetchEnd} when it ended, counted like {@code total} from the invocation's start;
 * a prefetch still running when the answer is ready is reported on the trace span when it ends.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Timing(
        @JsonProperty("total") double total,
        @JsonProperty("vmm_start") Double vmmStart,
        @JsonProperty("vmm_bind") Double vmmBind,
        @JsonProperty("state_load") Double stateLoad,
        @JsonProperty("prefetch") Double prefetch,
        @JsonProperty("prefetch_end") Double prefetchEnd,
        @JsonProperty("resume") Double resume,
        @JsonProperty("boot") Double boot,
        @JsonProperty("function_load") Double functionLoad,
        @JsonProperty("reseed") Double reseed,
        @JsonProperty("guest_exec") double guestExec,
        @JsonProperty("host_overhead") double hostOverhead) {

    /**
     * Accumulates phase times while an invocation runs. Each phase is the time since the previous
     * one ended; its start and end are kept (as epoch nanoseconds via {@link #epochNanos}) so the
     * phases can also become child spans of the invocation's trace span.
     */
    static final class Clock {
        private final Ticker ticker;
        private final long startNanos;
        private final long startEpochNanos;
        private long mark;
        private final Map<Phase, long[]> phases = new EnumMap<>(Phase.class);
        /** A prefetch that ran beside the restore (FaaSnap) is reported but is not a slice of the total. */
        private volatile long[] concurrentPrefetch;

        Clock(Ticker ticker) {
            this.ticker = ticker;
            this.startNanos = ticker.nanoTime();
            this.mark = startNanos;
            Instant now = Instant.now();
            startEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }

        long now() {
            return ticker.nanoTime();
        }

        /** Milliseconds since the clock started. */
        double elapsedMs() {
            return (ticker.nanoTime() - startNanos) / 1e6;
        }

        /** Ends {@code phase} now; it began where the previous phase ended. Returns its ms. */
        double phase(Phase phase) {
            long now = ticker.nanoTime();
            phases.put(phase, new long[]{mark, now});
            double ms = (now - mark) / 1e6;
            mark = now;
            return ms;
        }

        /** Records a prefetch that ran beside the other phases, from {@code startNanos} to {@code endNanos}. */
        void concurrentPrefetch(long startNanos, long endNanos) {
            concurrentPrefetch = new long[]{startNanos, endNanos};
        }

        /** The concurrent prefetch's {start, end} in ticker nanoseconds, or null. */
        long[] concurrentPrefetch() {
            return concurrentPrefetch;
        }

        Double ms(Phase phase) {
            long[] p = phases.get(phase);
            return p == null ? null : (p[1] - p[0]) / 1e6;
        }

        Map<Phase, long[]> phases() {
            return phases;
        }

        long epochNanos(long tickerNanos) {
            return startEpochNanos + (tickerNanos - startNanos);
        }

        long startEpochNanos() {
            return startEpochNanos;
        }

        /** Milliseconds the instance took to become ready: every sequential phase before the guest ran the handler. */
        double coldStartMs() {
            double sum = 0;
            for (long[] p : phases.values()) sum += (p[1] - p[0]) / 1e6;
            return sum;
        }

        Timing finish(double guestExec) {
            return finish(guestExec, null);
        }

        /** @param reseed the guest's reseed time (already bounded by the caller), or null when there was none */
        Timing finish(double guestExec, Double reseed) {
            double total = (ticker.nanoTime() - startNanos) / 1e6;
            double named = guestExec + coldStartMs() + (reseed == null ? 0 : reseed);
            long[] cp = concurrentPrefetch;
            Double prefetch = cp != null ? Double.valueOf((cp[1] - cp[0]) / 1e6) : ms(Phase.PREFETCH);
            Double prefetchEnd = cp != null ? Double.valueOf((cp[1] - startNanos) / 1e6) : null;
            return new Timing(total, ms(Phase.VMM_START), ms(Phase.VMM_BIND), ms(Phase.STATE_LOAD), prefetch, prefetchEnd, ms(Phase.RESUME),
                    ms(Phase.BOOT), ms(Phase.FUNCTION_LOAD), reseed, guestExec, Math.max(0, total - named));
        }
    }
}
