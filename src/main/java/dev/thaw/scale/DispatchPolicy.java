package dev.thaw.scale;

/**
 * Where a call with no idle instance should go: wait for a busy instance of its function, start
 * a new one, or be refused — chosen by which is expected to answer sooner.
 *
 * <p>Waiting costs the time until an instance frees up for this call: with {@code busy} instances
 * each serving one call of mean service time S and {@code ahead} calls already waiting, the call
 * is served by the ({@code ahead}+1)-th instance to free up, about ({@code ahead}+1)·S/{@code busy}
 * from now (instances still being restored count as servers that start late: they are treated as
 * busy ones, which errs towards waiting). Restoring costs the function's recent restore time. The
 * cheaper wins; ties go to waiting, because a restore also takes CPU from every running instance
 * (on these TCG hosts a restore uses about 400 ms of both cores). When a restore is wanted but
 * the host's restore slots are all taken ({@link RestoreSlots}), the call waits for whichever
 * comes first, an instance or a slot; when even that wait is expected to exceed the caller's
 * bound, it is refused at once (a quick 429 instead of a slow answer).
 *
 * <p>Whether to refuse is judged by a pessimistic wait, not the expected one ({@link #boundWaitMs}):
 * the same queue model with a high quantile of the service times instead of their mean, and at
 * least as long as the oldest call already waiting has waited. The mean is the right guess for
 * choosing between queueing and restoring, but a bound on waiting must hold for most calls, and
 * once the host saturates the mean fails it twice over: a stream of 10 ms calls with a few 200 ms
 * stalls has a mean that hides the stalls, and during a stall no call ends, so the recent service
 * times (which only completed calls update) still describe the time before it, while calls pile
 * up behind it. The oldest waiting call's age sees a stall as it happens: a new call joins the
 * queue behind it and, with the queue no shorter than when it arrived, waits at least as long.
 *
 * <p>Pure: no clock, no platform, no locks — the platform and a simulator feed it the same inputs.
 */
public final class DispatchPolicy {
    public enum Decision {
        /** an idle instance is there: take it */
        IDLE,
        /** wait for a busy (or starting) instance of the function */
        QUEUE,
        /** restore a new instance now (a restore slot is free) */
        RESTORE,
        /** a restore is wanted but no slot is free: wait for a slot or an instance, whichever is first */
        AWAIT_SLOT,
        /** every way is expected to take longer than the caller's bound: refuse now */
        REJECT
    }

    /**
     * What the decision rests on.
     *
     * @param idle          idle instances of the function
     * @param busy          instances of the function serving a call
     * @param restoring     restores of the function under way (they will serve the queue too)
     * @param ahead         calls of the function already waiting for an instance
     * @param serviceMs     expected service time of one call on a running instance
     * @param restoreMs     expected time to restore an instance
     * @param slotFree      whether the host may start a restore now (CPU headroom, instance budget)
     * @param maxWaitMs     the longest expected wait worth accepting; beyond it the call is refused
     *                      ({@code Double.POSITIVE_INFINITY}: never refuse)
     * @param serviceTailMs a high quantile of the service times, for the refusal's pessimistic wait
     * @param oldestWaitMs  how long the longest-waiting call of the function not yet on an instance
     *                      has waited so far (0 with none)
     */
    public record Inputs(int idle, int busy, int restoring, int ahead, double serviceMs, double restoreMs,
                         boolean slotFree, double maxWaitMs, double serviceTailMs, double oldestWaitMs) {
        /** Without tail or queue age: the refusal is judged by the mean, as the expected wait. */
        public Inputs(int idle, int busy, int restoring, int ahead, double serviceMs, double restoreMs,
                      boolean slotFree, double maxWaitMs) {
            this(idle, busy, restoring, ahead, serviceMs, restoreMs, slotFree, maxWaitMs, serviceMs, 0);
        }
    }

    private DispatchPolicy() {
    }

    /** The expected wait for a running (or starting) instance; infinite with none. */
    public static double expectedWaitMs(Inputs in) {
        return queueWaitMs(in, in.serviceMs());
    }

    /**
     * The wait a refusal is judged by: the queue model with the service times' high quantile, and
     * never less than the oldest waiting call's age; infinite with no instance.
     */
    public static double boundWaitMs(Inputs in) {
        double model = queueWaitMs(in, Math.max(in.serviceMs(), in.serviceTailMs()));
        return Math.max(model, in.oldestWaitMs());
    }

    private static double queueWaitMs(Inputs in, double serviceMs) {
        int servers = in.busy() + in.restoring();
        if (servers == 0) return Double.POSITIVE_INFINITY;
        // A starting instance serves its first call only after its restore; count its remaining
        // time as half a restore on average, spread over the servers.
        double startDelay = in.restoring() == 0 ? 0 : in.restoring() * in.restoreMs() / 2 / servers;
        return (in.ahead() + 1) * serviceMs / servers + startDelay;
    }

    public static Decision decide(Inputs in) {
        if (in.idle() > 0) return Decision.IDLE;
        double waitMs = expectedWaitMs(in);
        double boundMs = boundWaitMs(in);
        if (waitMs <= in.restoreMs()) {
            return boundMs <= in.maxWaitMs() ? Decision.QUEUE : Decision.REJECT;
        }
        if (in.slotFree()) return Decision.RESTORE;
        // No slot: this call waits for a slot or an instance. Refuse it only if instances exist
        // and even the queue is too slow; a function with none must get its first one eventually.
        return Double.isFinite(boundMs) && boundMs > in.maxWaitMs() ? Decision.REJECT : Decision.AWAIT_SLOT;
    }
}
