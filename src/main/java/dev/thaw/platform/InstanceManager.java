package dev.thaw.platform;

import dev.thaw.model.Mode;
import dev.thaw.vm.Guest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one owner of running guests and of the budget they draw from.
 *
 * <p>Every VM the platform starts — an invocation's restore or boot, a prewarm, a deploy's boot,
 * a working-set record — first takes a {@link Reservation} here, so {@code --max-instances} and
 * {@code --memory-budget-mib} bound them all. Room is made by stopping the longest-idle instance
 * of any function; when nothing idle is left, the reservation is refused with a 429 naming the
 * limit. A reservation is made before the VM starts (a refused start costs nothing) and passes to
 * the {@link Instance} it becomes, which gives it back when it is discarded.
 *
 * <p>Per function, idle instances form a stack: the most recently used is on top, so warm calls
 * reuse the hottest VM and the keeper retires the coldest. One lock guards the two budget
 * counters; each decision is a few comparisons, far below the cost of the restore it gates.
 *
 * <p>It also keeps what idleness costs, per function: the instance-nanoseconds spent idle, and
 * the same weighted by guest memory (what {@code GET /stats} and {@code thaw load} report as idle
 * memory-time), plus the instances started. A listener hears every instance made idle, so calls
 * waiting for one ({@link Dispatch}) wake up.
 */
final class InstanceManager {
    private final Limits limits;
    private final Metrics metrics;
    private final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Instance> instances = new ConcurrentHashMap<>();
    private final Map<String, Deque<Instance>> idle = new ConcurrentHashMap<>();
    private int reservedInstances;
    private long reservedMib;
    private volatile boolean closed;
    /** Per function: {idle instance-ns, idle MiB-ns, restores, boots}. */
    private final Map<String, LongAdder[]> usage = new ConcurrentHashMap<>();
    private volatile Runnable onIdle = () -> { };
    /** Gives up one pre-started VMM to make room (true if it did): tried before any idle instance is evicted. */
    private volatile java.util.function.BooleanSupplier giveUpPooled = () -> false;

    InstanceManager(Limits limits, Metrics metrics, Ticker ticker) {
        this.limits = limits;
        this.metrics = metrics;
        this.ticker = ticker;
        metrics.gauge("thaw_instances", "Running instances by function and state", this::counts);
    }

    /** Budget held for one VM, from before it starts until it is stopped. Closing it gives the budget back. */
    final class Reservation implements AutoCloseable {
        private final int memoryMib;
        private boolean released;

        private Reservation(int memoryMib) {
            this.memoryMib = memoryMib;
        }

        int memoryMib() {
            return memoryMib;
        }

        @Override
        public void close() {
            lock.lock();
            try {
                if (released) return;
                released = true;
                reservedInstances--;
                reservedMib -= memoryMib;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Reserves room for one more VM of {@code memoryMib}, evicting the longest-idle instances of
     * any function to make room; a 429 naming the limit when even that is not enough.
     */
    Reservation reserve(int memoryMib) {
        return reserve(memoryMib, giveUpPooled);
    }

    /**
     * As {@link #reserve(int)}, with {@code giveUpPooled} deciding which pre-started VMM (if any)
     * to give up before an idle instance is evicted: a restore names its own shape so the pool
     * keeps it longest ({@link VmmPool#giveUpOne(VmmShape)}).
     */
    Reservation reserve(int memoryMib, java.util.function.BooleanSupplier giveUpPooled) {
        if (closed) throw new ThawException(ThawException.Kind.UNAVAILABLE, "shutting_down", "the platform is shutting down");
        while (true) {
            lock.lock();
            try {
                if (reservedInstances + 1 <= limits.maxInstances() && reservedMib + memoryMib <= limits.memoryBudgetMib()) {
                    reservedInstances++;
                    reservedMib += memoryMib;
                    return new Reservation(memoryMib);
                }
            } finally {
                lock.unlock();
            }
            if (giveUpPooled.getAsBoolean()) continue; // a waiting VMM is cheaper to lose than an idle instance
            Instance victim = longestIdle();
            if (victim == null) throw budgetExhausted(memoryMib);
            if (idleOf(victim.function()).remove(victim)) discard(victim);
        }
    }

    /**
     * Room for one more VM of {@code memoryMib} if it fits as things are, else null: never evicts,
     * never refuses with a 429. For pre-started VMMs, which must not push anything out.
     */
    Reservation tryReserve(int memoryMib) {
        if (closed) return null;
        lock.lock();
        try {
            if (reservedInstances + 1 > limits.maxInstances() || reservedMib + memoryMib > limits.memoryBudgetMib()) return null;
            reservedInstances++;
            reservedMib += memoryMib;
            return new Reservation(memoryMib);
        } finally {
            lock.unlock();
        }
    }

    /** Called by {@link #reserve} when it needs room, before it evicts an idle instance (the VMM pool's hook). */
    void onNeedRoom(java.util.function.BooleanSupplier giveUp) {
        this.giveUpPooled = giveUp;
    }

    private Instance longestIdle() {
        Instance victim = null;
        for (Deque<Instance> q : idle.values()) {
            Instance last = q.peekLast();
            if (last != null && (victim == null || last.idleSinceNanos() < victim.idleSinceNanos())) victim = last;
        }
        return victim;
    }

    private ThawException budgetExhausted(int memoryMib) {
        lock.lock();
        try {
            boolean memory = reservedMib + memoryMib > limits.memoryBudgetMib();
            String limit = memory ? "memory" : "instances";
            metrics.increment("thaw_rejections_total", "Invocations refused with 429, by the limit hit", Metrics.labels("reason", limit));
            return memory
                    ? ThawException.limitExceeded(limit, "guest memory budget exhausted: " + reservedMib + " of "
                    + limits.memoryBudgetMib() + " MiB in use, " + memoryMib + " MiB more needed", 2)
                    : ThawException.limitExceeded(limit, "instance limit reached: " + reservedInstances + " of "
                    + limits.maxInstances() + " running", 2);
        } finally {
            lock.unlock();
        }
    }

    /** Adds a started guest as a busy instance; the reservation now belongs to it. */
    Instance register(Reservation reservation, String function, Mode origin, Guest guest) {
        Instance inst = new Instance(function, origin, reservation.memoryMib(), guest);
        usageOf(function)[origin == Mode.COLD ? 3 : 2].increment();
        instances.put(inst.id(), inst);
        inst.markBusy();
        if (closed) {
            discard(inst);
            throw new ThawException(ThawException.Kind.UNAVAILABLE, "shutting_down", "the platform is shutting down");
        }
        return inst;
    }

    /** The most recently used idle instance of a function, now busy; null if none. */
    Instance takeIdle(String function) {
        Deque<Instance> q = idle.get(function);
        if (q == null) return null;
        for (Instance inst; (inst = q.pollFirst()) != null; ) {
            if (inst.alive()) {
                accountIdle(inst);
                inst.markBusy();
                return inst;
            }
            discard(inst);
        }
        return null;
    }

    /** Returns a healthy instance to its function's idle stack, unless {@code cap} are idle already. */
    void release(Instance inst, int cap) {
        Deque<Instance> q = idleOf(inst.function());
        boolean parked;
        lock.lock(); // check and park as one step: two calls ending together must not both fit under the cap
        try {
            parked = !closed && inst.alive() && q.size() < cap;
            if (parked) {
                inst.markIdle(ticker.nanoTime());
                q.addFirst(inst);
            }
        } finally {
            lock.unlock();
        }
        if (!parked) {
            discard(inst);
            return;
        }
        onIdle.run();
    }

    /** Called after every instance made idle (not under any lock of this class). */
    void onIdle(Runnable listener) {
        this.onIdle = listener;
    }

    private LongAdder[] usageOf(String function) {
        return usage.computeIfAbsent(function, k -> new LongAdder[]{new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()});
    }

    /** Adds the idle time an instance ends now to its function's account. */
    private void accountIdle(Instance inst) {
        if (inst.state() != Instance.State.IDLE) return;
        long idle = Math.max(0, ticker.nanoTime() - inst.idleSinceNanos());
        LongAdder[] u = usageOf(inst.function());
        u[0].add(idle);
        u[1].add(idle * inst.memoryMib());
    }

    /** What a function's instances cost so far: idle time (counting the idle ones up to now) and starts. */
    record Usage(double idleInstanceSeconds, double idleMibSeconds, long restores, long boots, int idle, long running) {}

    Usage usage(String function) {
        LongAdder[] u = usageOf(function);
        long now = ticker.nanoTime();
        long idleNs = u[0].sum();
        long idleMibNs = u[1].sum();
        int idleNow = 0;
        for (Instance inst : idleOf(function)) {
            if (inst.state() != Instance.State.IDLE) continue;
            long d = Math.max(0, now - inst.idleSinceNanos());
            idleNs += d;
            idleMibNs += d * inst.memoryMib();
            idleNow++;
        }
        return new Usage(idleNs / 1e9, idleMibNs / 1e9, u[2].sum(), u[3].sum(), idleNow, running(function));
    }

    int idleCount(String function) {
        Deque<Instance> q = idle.get(function);
        return q == null ? 0 : q.size();
    }

    /** Parks a healthy instance idle regardless of the cap (prewarmed on request). */
    void park(Instance inst) {
        release(inst, Integer.MAX_VALUE);
    }

    /** Stops an instance and gives its budget back; idempotent. */
    void discard(Instance inst) {
        if (instances.remove(inst.id()) != null) {
            accountIdle(inst);
            lock.lock();
            try {
                reservedInstances--;
                reservedMib -= inst.memoryMib();
            } finally {
                lock.unlock();
            }
        }
        Deque<Instance> q = idle.get(inst.function());
        if (q != null) q.remove(inst);
        inst.close();
    }

    /**
     * Stops the function's instances idle since before {@code cutoffNanos}, oldest first, but
     * keeps at least {@code keep} instances running. Returns how many run afterwards.
     */
    long retireIdle(String function, long cutoffNanos, int keep) {
        long running = running(function);
        Deque<Instance> q = idleOf(function);
        for (var it = q.descendingIterator(); it.hasNext() && running > keep; ) {
            Instance inst = it.next();
            if (inst.idleSinceNanos() < cutoffNanos && q.remove(inst)) {
                discard(inst);
                running--;
            }
        }
        return running;
    }

    long running(String function) {
        return instances.values().stream().filter(i -> i.function().equals(function)).count();
    }

    void stopIdle(String function) {
        Deque<Instance> q = idle.get(function);
        if (q != null) for (Instance inst; (inst = q.pollFirst()) != null; ) discard(inst);
    }

    void stopAll(String function) {
        for (Instance inst : new ArrayList<>(instances.values())) {
            if (inst.function().equals(function)) discard(inst);
        }
    }

    void stop(String id) {
        discard(find(id));
    }

    /** The function an instance runs (NOT_FOUND for an unknown id). */
    String functionOf(String id) {
        return find(id).function();
    }

    private Instance find(String id) {
        Instance inst = instances.get(id);
        if (inst == null) throw ThawException.notFound("no instance " + id);
        return inst;
    }

    List<Instance.Info> infos() {
        return instances.values().stream().map(Instance::info).sorted(Comparator.comparing(Instance.Info::id)).toList();
    }

    /** Budget in use: {instances, MiB}, for tests and health. */
    long[] reserved() {
        lock.lock();
        try {
            return new long[]{reservedInstances, reservedMib};
        } finally {
            lock.unlock();
        }
    }

    /** Instance counts by function and state, for the metrics gauge. */
    Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        for (Instance inst : instances.values()) {
            out.merge(Metrics.labels("function", inst.function(), "state", inst.state().name().toLowerCase()), 1L, Long::sum);
        }
        return out;
    }

    private Deque<Instance> idleOf(String function) {
        return idle.computeIfAbsent(function, k -> new ConcurrentLinkedDeque<>());
    }

    void close() {
        closed = true;
        for (Instance inst : new ArrayList<>(instances.values())) discard(inst);
    }
}
