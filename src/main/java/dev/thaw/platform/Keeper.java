package dev.thaw.platform;

import dev.thaw.model.Mode;
import dev.thaw.scale.KeepAlivePolicy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Keeps the right number of instances running: restores instances ahead of calls on request
 * ({@link #prewarm}) and, once a second ({@link #tick}), per function: asks the autoscaler how
 * many instances it wants ({@link Dispatch#scale}), applies the keep-alive policy's windows, and
 * restores up to the floor — the larger of {@code min_warm} and the autoscaler's count — and
 * forgets expired async results. {@link #tick} takes the time as an argument, so tests drive it
 * with a manual clock instead of waiting.
 *
 * <p>The keep-alive windows (see {@link KeepAlivePolicy}) act on the function's idle time, the
 * time since its last call ended: with a pre-warm window p and a keep-alive window k, idle
 * instances above the floor are stopped while it is below p, one instance is restored at p and
 * kept until p + k, and everything above the floor stops after that; with p = 0 (the fixed
 * policy) each instance stops once it was idle for k itself, as before. The autoscaler's and the
 * policy's restores take a restore slot without waiting for one: with no CPU headroom they are
 * left to the next round, so they never starve the instances serving calls.
 *
 * <p>Every instance restored here is restored ahead of demand, so each is primed ({@link Primer})
 * before it is parked idle: its reseed and its handler's first run happen here, not in a caller's
 * call. One whose priming fails is discarded, never parked.
 */
final class Keeper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Keeper.class.getName());
    static final int MAX_PREWARM = 64;

    private final FunctionRegistry registry;
    private final InstanceManager instances;
    private final Restorer restorer;
    private final AsyncInvocations async;
    private final Dispatch dispatch;
    private final Ticker ticker;
    private final Primer primer;
    private volatile Thread loop;

    Keeper(FunctionRegistry registry, InstanceManager instances, Restorer restorer, AsyncInvocations async,
           Dispatch dispatch, Ticker ticker, Primer primer) {
        this.primer = primer;
        this.registry = registry;
        this.instances = instances;
        this.restorer = restorer;
        this.async = async;
        this.dispatch = dispatch;
        this.ticker = ticker;
    }

    /** Starts the once-a-second loop on a virtual thread. */
    void start() {
        loop = Thread.ofVirtual().name("instance-keeper").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                tick(ticker.nanoTime());
            }
        });
    }

    /**
     * Restores {@code count} instances of a function (concurrently, with its default strategy),
     * primes them and parks them idle, ready for warm calls. Returns the ids of those parked; if
     * none could be, the failure of the last (a restore's or a priming's).
     */
    List<String> prewarm(String function, int count) {
        Deployed d = registry.get(function);
        if (count < 1 || count > MAX_PREWARM) throw ThawException.badRequest("count must be 1.." + MAX_PREWARM + ", got " + count);
        List<CompletableFuture<Instance>> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(CompletableFuture.supplyAsync(() -> restoreAhead(d), r -> Thread.ofVirtual().start(r)));
        }
        List<String> ids = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<Instance> f : started) {
            try {
                Instance inst = f.join();
                instances.park(inst);
                ids.add(inst.id());
            } catch (CompletionException e) {
                failure = e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
            }
        }
        if (ids.isEmpty() && failure != null) throw failure;
        return ids;
    }

    /** A restore nobody waits for: restored with the function's strategy, then primed (busy until parked). */
    private Instance restoreAhead(Deployed d) {
        Mode strategy = d.defaultRestore();
        Instance inst = restorer.restore(d, strategy, new Timing.Clock(ticker), new ArrayList<>()).instance();
        primer.prime(d, inst);
        return inst;
    }

    /** One round of keeping: scale, keep alive or retire, top up the floor, forget expired async results. */
    void tick(long nowNanos) {
        for (Deployed d : registry.all()) {
            try {
                keep(d, nowNanos);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "keeping " + d.name() + " warm failed: " + e.getMessage());
            }
        }
        async.purgeExpired();
    }

    private void keep(Deployed d, long now) {
        String fn = d.name();
        Double own = d.spec().concurrencyTarget();
        int desired = dispatch.scale(fn, own != null ? own : dispatch.scaling().concurrencyTarget(), now);
        long idleFor = dispatch.idleFor(fn, now); // -1: a call is running; Long.MAX_VALUE: none came yet
        // The autoscaler's count holds instances only while the function is serving; once it is
        // quiet, the keep-alive policy alone decides when its instances go.
        boolean active = idleFor < dispatch.scaling().autoscaler().panicWindow().toNanos() && !dispatch.isQuiet(fn);
        int minWarm = d.spec().minWarm();
        int floor = Math.max(minWarm, active ? desired : 0);
        KeepAlivePolicy.Windows w = dispatch.scaling().keepAlive().windows(fn);
        long prewarm = w.prewarm().toNanos();
        long keepAlive = w.keepAlive().toNanos();
        long running;
        if (prewarm == 0 || idleFor < 0) {
            running = instances.retireIdle(fn, now - keepAlive, floor);
        } else if (idleFor < prewarm) {
            running = instances.retireIdle(fn, now, floor); // the gap before the next call is due: keep nothing
        } else if (idleFor - prewarm < keepAlive) {
            floor = Math.max(floor, 1); // the pre-warm window passed: have one ready for the call
            running = instances.retireIdle(fn, now - keepAlive, floor);
        } else {
            running = instances.retireIdle(fn, now, floor);
        }
        // min_warm is a promise: restored whatever the headroom; the rest only into a free restore slot
        if (running < minWarm) prewarm(fn, (int) (minWarm - running));
        for (long r = Math.max(running, minWarm); r < floor && dispatch.tryRestoreSlot(fn); r++) {
            try {
                instances.park(restoreAhead(registry.get(fn)));
            } finally {
                dispatch.restored(fn, true);
            }
        }
    }

    @Override
    public void close() {
        Thread t = loop;
        if (t != null) t.interrupt();
    }
}
