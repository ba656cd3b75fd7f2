package dev.thaw.platform;

import dev.thaw.model.Mode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Keeps the right number of instances running: restores instances ahead of calls on request
 * ({@link #prewarm}) and, once a second ({@link #tick}), stops instances idle past the keep-alive
 * time (never below a function's {@code min_warm}), restores instances up to {@code min_warm},
 * and forgets expired async results. {@link #tick} takes the time as an argument, so tests drive
 * it with a manual clock instead of waiting.
 */
final class Keeper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Keeper.class.getName());
    static final int MAX_PREWARM = 64;

    private final FunctionRegistry registry;
    private final InstanceManager instances;
    private final Restorer restorer;
    private final AsyncInvocations async;
    private final Duration idleTimeout;
    private final Ticker ticker;
    private volatile Thread loop;

    Keeper(FunctionRegistry registry, InstanceManager instances, Restorer restorer, AsyncInvocations async,
           Duration idleTimeout, Ticker ticker) {
        this.registry = registry;
        this.instances = instances;
        this.restorer = restorer;
        this.async = async;
        this.idleTimeout = idleTimeout;
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
     * Restores {@code count} instances of a function (concurrently, with its default strategy)
     * and parks them idle, ready for warm calls. Returns their ids.
     */
    List<String> prewarm(String function, int count) {
        Deployed d = registry.get(function);
        if (count < 1 || count > MAX_PREWARM) throw ThawException.badRequest("count must be 1.." + MAX_PREWARM + ", got " + count);
        List<CompletableFuture<Instance>> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(CompletableFuture.supplyAsync(() -> restore(d), r -> Thread.ofVirtual().start(r)));
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

    private Instance restore(Deployed d) {
        Mode strategy = d.defaultRestore();
        return restorer.restore(d, strategy, new Timing.Clock(ticker), new ArrayList<>()).instance();
    }

    /** One round of keeping: retire idle instances, top up {@code min_warm}, forget expired async results. */
    void tick(long nowNanos) {
        long cutoff = nowNanos - idleTimeout.toNanos();
        for (Deployed d : registry.all()) {
            int minWarm = d.spec().minWarm();
            long running = instances.retireIdle(d.name(), cutoff, minWarm);
            if (running < minWarm) {
                try {
                    prewarm(d.name(), (int) (minWarm - running));
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "keeping " + d.name() + " warm failed: " + e.getMessage());
                }
            }
        }
        async.purgeExpired();
    }

    @Override
    public void close() {
        Thread t = loop;
        if (t != null) t.interrupt();
    }
}
