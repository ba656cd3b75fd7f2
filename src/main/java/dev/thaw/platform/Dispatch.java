package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.scale.Autoscaler;
import dev.thaw.scale.ConcurrencyMeter;
import dev.thaw.scale.DispatchPolicy;
import dev.thaw.scale.RecentTimes;
import dev.thaw.scale.RestoreSlots;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The platform's side of {@link DispatchPolicy}: what a {@code warm} call that finds no idle
 * instance does, and the per-function state the policies read.
 *
 * <p>Per function it keeps the recent service times (request to reply on a running instance),
 * the recent restore times (restore start to the first reply, less a service time: under TCG the
 * first request after a restore pays 100–150 ms of retranslation, which is part of what a restore
 * costs), the calls in flight ({@link ConcurrencyMeter}, for the {@link Autoscaler}) and when the
 * function last went idle (for the keep-alive policy's idle times). {@link #acquire} asks the
 * policy, and waits on one condition that instance releases and freed restore slots signal;
 * while waiting it decides again on every signal (and every 50 ms), so a call that queued behind
 * slow calls switches to a restore once that became faster. Restores for warm misses and the
 * autoscaler's prewarms take a {@link RestoreSlots} slot; explicitly asked restores (modes
 * {@code vanilla}, {@code reap}, … and {@code POST /prewarm}) do not, so benchmarks measure what
 * they ask for; nor does a function's first instance, so functions starting together do not
 * queue behind each other's restores. Restores beyond a function's first also wait for CPU
 * headroom (half an idle core): on a saturated host a restore adds no capacity.
 */
final class Dispatch {
    /** How a call got its instance, as the answer's {@code dispatch} says. */
    enum Outcome { IDLE, QUEUED, RESTORED }

    /** The instance a call got, or a restore it must do (with a slot to give back after, if {@code slot}). */
    record Acquired(Outcome outcome, Instance instance, boolean slot) {}

    /**
     * A warm call from its arrival ({@link #enter}) until it is on an instance or restoring one
     * ({@link #acquire}) or gone ({@link #leave}): the oldest one's age is how long the function's
     * queue is taking right now, which a refusal must not undercut.
     */
    static final class Arrival {
        final long nanos;

        Arrival(long nanos) {
            this.nanos = nanos;
        }
    }

    /** The quantile of recent service times a refusal's pessimistic wait uses. */
    static final double SERVICE_TAIL = 0.9;

    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Scaling scaling;
    private final InstanceManager instances;
    private final Metrics metrics;
    private final Ticker ticker;
    private final Duration queueTimeout;
    private final RestoreSlots slots;
    /** Idle host cores now ({@link HostCpu}); a restore that is not a function's first waits for half a core. */
    private final java.util.function.DoubleSupplier idleCores;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Fn> functions = new ConcurrentHashMap<>();

    /** One function's state; counters guarded by {@link #lock}. */
    private final class Fn {
        final RecentTimes service = new RecentTimes(32, 100);
        final RecentTimes restore = new RecentTimes(8, scaling.restorePrior().toNanos() / 1e6);
        final ConcurrencyMeter meter = new ConcurrencyMeter(ticker.nanoTime());
        final Autoscaler autoscaler = new Autoscaler(scaling.autoscaler());
        final LongAdder[] outcomes = {new LongAdder(), new LongAdder(), new LongAdder()};
        volatile int desired;
        int inFlight;
        int waiting;
        int restoring;
        boolean quiet; // its instances were stopped by hand: hold none for the autoscaler until the next call
        long idleSince = -1;
        final java.util.ArrayDeque<Arrival> queued = new java.util.ArrayDeque<>(); // arrival order
    }

    static final double HEADROOM_CORES = 0.5;

    Dispatch(Scaling scaling, InstanceManager instances, Metrics metrics, Ticker ticker, Duration queueTimeout,
             java.util.function.DoubleSupplier idleCores) {
        this.idleCores = idleCores;
        this.scaling = scaling;
        this.instances = instances;
        this.metrics = metrics;
        this.ticker = ticker;
        this.queueTimeout = queueTimeout;
        this.slots = new RestoreSlots(scaling.restoreSlots());
        instances.onIdle(this::signal);
    }

    Scaling scaling() {
        return scaling;
    }

    /** Calls of the function waiting for an instance now (tests wait for a call to have queued). */
    int waiting(String function) {
        Fn f = fn(function);
        lock.lock();
        try {
            return f.waiting;
        } finally {
            lock.unlock();
        }
    }

    private Fn fn(String function) {
        return functions.computeIfAbsent(function, k -> new Fn());
    }

    /**
     * A call of {@code function} arrives: refused at once (429 {@code overloaded}) when the wait
     * it must be prepared for ({@link DispatchPolicy#boundWaitMs}) is beyond {@code --max-queue-wait}
     * and a restore cannot help; otherwise counted in flight until {@link #leave}, and queued
     * until it is on an instance. The end of an idle period is an idle time for the keep-alive policy.
     */
    Arrival enter(String function) {
        Fn f = fn(function);
        long now = ticker.nanoTime();
        lock.lock();
        try {
            if (scaling.maxQueueWait() != null) {
                int busy = busy(function, f);
                int ahead = Math.max(0, f.inFlight - busy - f.restoring);
                DispatchPolicy.Inputs in = inputs(function, f, ahead);
                if (DispatchPolicy.decide(in) == DispatchPolicy.Decision.REJECT) {
                    metrics.increment("thaw_rejections_total", "Invocations refused with 429, by the limit hit",
                            Metrics.labels("reason", "overloaded"));
                    throw ThawException.limitExceeded("overloaded", String.format(java.util.Locale.ROOT,
                            "%s could wait %.0f ms for an instance (%d busy, %d ahead, the oldest waiting for %.0f ms), "
                            + "more than --max-queue-wait %d ms", function, DispatchPolicy.boundWaitMs(in), busy, ahead,
                            in.oldestWaitMs(), scaling.maxQueueWait().toMillis()), 1);
                }
            }
            if (f.inFlight == 0 && f.idleSince >= 0) scaling.keepAlive().observeIdle(function, Duration.ofNanos(now - f.idleSince));
            f.inFlight++;
            f.quiet = false;
            f.meter.change(now, +1);
            Arrival arrival = new Arrival(now);
            f.queued.addLast(arrival);
            return arrival;
        } finally {
            lock.unlock();
        }
    }

    void leave(String function) {
        leave(function, null);
    }

    /** The call that {@link #enter} gave {@code arrival} ended (answered, failed or refused later). */
    void leave(String function, Arrival arrival) {
        Fn f = fn(function);
        long now = ticker.nanoTime();
        lock.lock();
        try {
            if (arrival != null) f.queued.remove(arrival);
            f.inFlight = Math.max(0, f.inFlight - 1);
            f.meter.change(now, -1);
            if (f.inFlight == 0) f.idleSince = now;
        } finally {
            lock.unlock();
        }
    }

    /**
     * An instance for a {@code warm} call: an idle one, one that frees up while it waits, or null
     * with outcome {@code RESTORED}: the caller restores, holding a restore slot it gives back
     * with {@link #restored}. A call that waited longer than a restore would have taken (the
     * estimate was wrong: the busy calls are slow or stuck) restores as soon as a slot is free.
     * A call from a guest ({@code mayQueue} false) never waits for a busy instance: the busy one
     * may be its own caller, which waits for it. A 429 {@code queue_timeout} when nothing came
     * within the queue timeout.
     */
    Acquired acquire(String function, boolean mayQueue) {
        return acquire(function, mayQueue, null);
    }

    /** As {@link #acquire(String, boolean)}, for the call {@link #enter} gave {@code arrival}: it leaves the queue here. */
    Acquired acquire(String function, boolean mayQueue, Arrival arrival) {
        Fn f = fn(function);
        long start = System.nanoTime();
        long deadline = start + queueTimeout.toNanos();
        boolean waited = false;
        lock.lock();
        try {
            f.waiting++;
            while (true) {
                Instance inst = instances.takeIdle(function);
                if (inst != null) return count(function, f, waited ? Outcome.QUEUED : Outcome.IDLE, inst, false);
                DispatchPolicy.Inputs in = inputs(function, f, f.waiting - 1);
                long now = System.nanoTime();
                boolean restore = !mayQueue || DispatchPolicy.decide(in) == DispatchPolicy.Decision.RESTORE
                        || now - start >= in.restoreMs() * 1e6 || now >= deadline;
                if (in.busy() + in.restoring() == 0) {
                    // The function's first instance: nothing of its own to wait for, so it neither
                    // waits for headroom nor for a slot another function's restore holds (no
                    // head-of-line blocking across functions).
                    f.restoring++;
                    return count(function, f, Outcome.RESTORED, null, false);
                }
                if (restore && (in.slotFree() || !mayQueue || now >= deadline) && slots.tryAcquire()) {
                    f.restoring++;
                    return count(function, f, Outcome.RESTORED, null, true);
                }
                if (now >= deadline) {
                    metrics.increment("thaw_rejections_total", "Invocations refused with 429, by the limit hit",
                            Metrics.labels("reason", "queue_timeout"));
                    throw ThawException.limitExceeded("queue_timeout", function + " waited " + queueTimeout.toSeconds()
                            + " s for an instance or a restore slot", 1);
                }
                waited = true;
                changed.awaitNanos(Math.min(deadline - now, RECHECK_NANOS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ThawException(ThawException.Kind.UNAVAILABLE, "interrupted", "interrupted while waiting for an instance");
        } finally {
            f.waiting--;
            if (arrival != null) f.queued.remove(arrival);
            lock.unlock();
        }
    }

    /** Takes a restore slot for the autoscaler without waiting; false when the host has no headroom. */
    boolean tryRestoreSlot(String function) {
        lock.lock();
        try {
            if (idleCores.getAsDouble() < HEADROOM_CORES || !slots.tryAcquire()) return false;
            fn(function).restoring++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A restore of {@code function} {@link #acquire} or {@link #tryRestoreSlot} allowed ended (either way); its slot, if any, is free again. */
    void restored(String function, boolean slot) {
        lock.lock();
        try {
            Fn f = fn(function);
            f.restoring = Math.max(0, f.restoring - 1);
            if (slot) slots.release();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** One call on a running instance took {@code ms} from request to reply. */
    void served(String function, double ms) {
        fn(function).service.add(ms);
    }

    /** A restore's start to its first reply took {@code ms}; the part beyond a service time is the restore's cost. */
    void restoreTook(String function, double ms) {
        Fn f = fn(function);
        f.restore.add(Math.max(0, ms - f.service.meanMs()));
    }

    private Acquired count(String function, Fn f, Outcome o, Instance inst, boolean slot) {
        f.outcomes[o.ordinal()].increment();
        metrics.increment("thaw_dispatch_total", "How warm calls got an instance: idle, queued for a busy one, or restored",
                Metrics.labels("function", function, "decision", o.name().toLowerCase()));
        return new Acquired(o, inst, slot);
    }

    private DispatchPolicy.Inputs inputs(String function, Fn f, int ahead) {
        double maxWait = scaling.maxQueueWait() == null ? Double.POSITIVE_INFINITY : scaling.maxQueueWait().toNanos() / 1e6;
        int busy = busy(function, f);
        Arrival oldest = f.queued.peekFirst();
        double oldestMs = oldest == null ? 0 : Math.max(0, (ticker.nanoTime() - oldest.nanos) / 1e6);
        return new DispatchPolicy.Inputs(instances.idleCount(function), busy, f.restoring, ahead,
                f.service.meanMs(), f.restore.meanMs(), slots.free() && headroom(busy + f.restoring), maxWait,
                f.service.quantileMs(SERVICE_TAIL), oldestMs);
    }

    /**
     * Whether the host can take a restore now. A function with no instance gets its first one
     * whatever the load (it has no other way to be served); further restores need half a core idle.
     */
    private boolean headroom(int instancesOfFunction) {
        return instancesOfFunction == 0 || idleCores.getAsDouble() >= HEADROOM_CORES;
    }

    private int busy(String function, Fn f) {
        return (int) Math.max(0, instances.running(function) - instances.idleCount(function) - f.restoring);
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- for the keeper

    /**
     * The autoscaler's round for one function: samples its average concurrency since the last
     * round and returns the instances it wants (the function's {@code concurrency_target}, or the
     * daemon's).
     */
    int scale(String function, double target, long nowNanos) {
        Fn f = fn(function);
        f.autoscaler.sample(nowNanos, f.meter.sample(nowNanos));
        int want = f.autoscaler.desired(nowNanos, (int) instances.running(function), target);
        f.desired = want;
        return want;
    }

    /** What the autoscaler wanted at its last round. */
    int desired(String function) {
        Fn f = functions.get(function);
        return f == null ? 0 : f.desired;
    }

    /**
     * The function's instances were stopped by hand ({@code DELETE /instances/{id}}, a cache drop):
     * until its next call the autoscaler holds none for it, so what an operator or a benchmark
     * stopped is not restored behind its back. The keep-alive policy and {@code min_warm} still apply.
     */
    void quiet(String function) {
        Fn f = fn(function);
        lock.lock();
        try {
            f.quiet = true;
        } finally {
            lock.unlock();
        }
    }

    boolean isQuiet(String function) {
        Fn f = functions.get(function);
        if (f == null) return false;
        lock.lock();
        try {
            return f.quiet;
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds since the function's last call ended; -1 while a call runs, {@code Long.MAX_VALUE} before any. */
    long idleFor(String function, long nowNanos) {
        Fn f = functions.get(function);
        if (f == null) return Long.MAX_VALUE;
        lock.lock();
        try {
            if (f.inFlight > 0) return -1;
            return f.idleSince < 0 ? Long.MAX_VALUE : nowNanos - f.idleSince;
        } finally {
            lock.unlock();
        }
    }

    void forget(String function) {
        functions.remove(function);
        scaling.keepAlive().forget(function);
    }

    /** Per function, for {@code GET /stats}. */
    record FunctionStats(@JsonProperty("dispatch") Map<String, Long> dispatch,
                         @JsonProperty("service_ms") double serviceMs, @JsonProperty("restore_ms") double restoreMs,
                         @JsonProperty("desired_instances") int desired, @JsonProperty("keepalive") Map<String, Object> keepAlive) {}

    FunctionStats stats(String function) {
        Fn f = fn(function);
        var w = scaling.keepAlive().windows(function);
        return new FunctionStats(Map.of("idle", f.outcomes[0].sum(), "queued", f.outcomes[1].sum(), "restored", f.outcomes[2].sum()),
                f.service.meanMs(), f.restore.meanMs(), f.desired,
                Map.of("policy", scaling.keepAlive().name(), "prewarm_s", w.prewarm().toMillis() / 1000.0,
                        "keepalive_s", w.keepAlive().toMillis() / 1000.0, "basis", w.basis()));
    }
}
