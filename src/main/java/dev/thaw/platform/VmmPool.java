package dev.thaw.platform;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.memory.PageServer;
import dev.thaw.vm.CallHandler;
import dev.thaw.vm.Guest;
import dev.thaw.vm.GuestLauncher;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Pre-started VMMs (issue 11): per {@link VmmShape}, up to {@code --vmm-pool N} QEMUs started
 * ahead, paused with {@code -incoming defer}, whose guest RAM is already behind userfaultfd
 * (the preload took over the mapping of a per-shape placeholder file and handed its handshake to
 * a {@link PageServer} that serves nothing yet). A restore that may use one ({@code thaw} mode)
 * {@link #take}s it and binds it to its snapshot (the page server to the memory file, then the
 * vmstate through a passed descriptor), so QEMU's start, 140–200 ms under TCG, is off its path.
 *
 * <p>Accounting: a pooled VMM holds a budget {@link InstanceManager.Reservation} like any VM
 * (one instance, the shape's guest memory: its cgroup is sized for that, though it holds little
 * yet), taken with {@link InstanceManager#tryReserve}, so the pool never pushes an instance out
 * and never starts a VMM past {@code --max-instances} or the memory budget. When a restore needs
 * room, pooled VMMs are the first thing given up, before any idle instance, and which ones is
 * decided by the restore's shape: a restore that can use the pool takes a VMM of its shape
 * instead of making room, and gives up only VMMs of other shapes ({@link #giveUpOther}; giving
 * up its own and then starting a QEMU itself would waste both); one that cannot (other modes)
 * gives up other shapes first and its own last ({@link #giveUpOne(VmmShape)}), since the
 * function being restored is the active one and its next warm miss wants that VMM. A taken VMM
 * becomes that restore's instance with its reservation and never comes back: one snapshot per
 * QEMU, ever.
 *
 * <p>Refills run on {@code refills} (virtual threads in the daemon, the caller's thread in tests):
 * after each take once the restore's reply is in (a start beside the restore would slow it on a
 * small host), and from {@link #maintain}, which the daemon calls every second with the shapes of
 * the deployed functions: it discards VMMs that died, drops shapes no longer deployed and fills
 * the rest.
 */
final class VmmPool implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VmmPool.class.getName());

    /** What a pooled VMM hands its memory to: the VM to launch and the page server awaiting its handshake (null: a fake). */
    interface Handover {
        Opened open(VmmShape shape) throws IOException;

        record Opened(VmConfig config, PageServer server) {}
    }

    private final GuestLauncher launcher;
    private final InstanceManager instances;
    private final Handover handover;
    private final Executor refills;
    private final Map<VmmShape, Deque<PooledVmm>> ready = new ConcurrentHashMap<>();
    private final Map<VmmShape, Integer> starting = new ConcurrentHashMap<>(); // guarded by this
    private final LongAdder hits = new LongAdder(), misses = new LongAdder(), started = new LongAdder(),
            died = new LongAdder(), givenUp = new LongAdder(), failedStarts = new LongAdder();
    private volatile int perShape;
    private volatile boolean closed;

    VmmPool(GuestLauncher launcher, InstanceManager instances, Handover handover, Executor refills, int perShape) {
        this.launcher = launcher;
        this.instances = instances;
        this.handover = handover;
        this.refills = refills;
        size(perShape);
    }

    /** VMMs kept per shape; 0 disables the pool (and stops what it holds). */
    void size(int n) {
        if (n < 0) throw new IllegalArgumentException("--vmm-pool must be 0 or more, got " + n);
        perShape = n;
        if (n == 0) for (Deque<PooledVmm> q : ready.values()) drain(q, Integer.MAX_VALUE);
    }

    int size() {
        return perShape;
    }

    /**
     * A live pre-started VMM of {@code shape}, now the caller's to bind (or discard), or null when
     * none waits; dead ones met on the way are discarded. Counts a hit or a miss.
     */
    PooledVmm take(VmmShape shape) {
        if (perShape == 0 || closed) return null;
        Deque<PooledVmm> q = ready.get(shape);
        for (PooledVmm vmm; q != null && (vmm = q.pollFirst()) != null; ) {
            if (!vmm.alive()) {
                died.increment();
                vmm.discard();
                continue;
            }
            if (vmm.take()) {
                hits.increment();
                return vmm;
            }
        }
        misses.increment();
        return null;
    }

    /**
     * Starts VMMs of {@code shape} in the background until it has its share (or the budget is
     * full); the future completes when that is done (a page-cache drop waits for it, like for a
     * prefetch, so a benchmark's next cold restore does not share the CPU with a QEMU start).
     */
    java.util.concurrent.CompletableFuture<Void> refill(VmmShape shape) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        if (perShape == 0 || closed) {
            done.complete(null);
            return done;
        }
        refills.execute(() -> {
            try {
                fill(shape);
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    /**
     * Brings the pool in line with {@code wanted} (the shapes of the deployed functions): drops
     * the rest, discards the dead, fills each shape.
     */
    void maintain(Collection<VmmShape> wanted) {
        Set<VmmShape> keep = new java.util.HashSet<>(wanted);
        for (var e : ready.entrySet()) {
            if (!keep.contains(e.getKey())) drain(e.getValue(), Integer.MAX_VALUE);
            else for (PooledVmm vmm : List.copyOf(e.getValue())) {
                if (!vmm.alive() && e.getValue().remove(vmm)) {
                    died.increment();
                    vmm.discard();
                }
            }
        }
        for (VmmShape s : keep) refill(s);
    }

    /** Gives up a pooled VMM of any shape, to make room (the manager's default hook); false when there is none. */
    boolean giveUpOne() {
        return giveUpOne(null);
    }

    /**
     * Gives up one pooled VMM to make room for a restore of shape {@code spare}: one of another
     * shape if any waits, {@code spare}'s own only when nothing else is left; false when the pool
     * is empty.
     */
    boolean giveUpOne(VmmShape spare) {
        return giveUp(spare, true);
    }

    /** As {@link #giveUpOne(VmmShape)}, but never one of {@code keep}'s shape (a restore that would rather take it). */
    boolean giveUpOther(VmmShape keep) {
        return giveUp(keep, false);
    }

    private boolean giveUp(VmmShape spare, boolean spareLast) {
        for (var e : ready.entrySet()) {
            if (e.getKey().equals(spare)) continue;
            if (discardNewest(e.getValue())) return true;
        }
        return spare != null && spareLast && discardNewest(ready.get(spare));
    }

    /** The most recently started goes first, as from a stack: the one next in line for a take stays. */
    private boolean discardNewest(Deque<PooledVmm> q) {
        PooledVmm vmm = q == null ? null : q.pollLast();
        if (vmm == null) return false;
        givenUp.increment();
        vmm.discard();
        return true;
    }

    private void fill(VmmShape shape) {
        while (!closed) {
            InstanceManager.Reservation r;
            synchronized (this) {
                int have = ready.computeIfAbsent(shape, k -> new ConcurrentLinkedDeque<>()).size() + starting.getOrDefault(shape, 0);
                if (have >= perShape) return;
                r = instances.tryReserve(shape.memoryMib());
                if (r == null) return; // never past the limits, never by evicting anything
                starting.merge(shape, 1, Integer::sum);
            }
            try {
                PooledVmm vmm = start(shape, r);
                if (vmm == null) return;
                ready.get(shape).addLast(vmm);
                if (closed || perShape == 0) drain(ready.get(shape), Integer.MAX_VALUE);
            } finally {
                synchronized (this) {
                    starting.merge(shape, -1, Integer::sum);
                }
            }
        }
    }

    /** Launches one VMM of {@code shape} holding {@code r}; null (and {@code r} given back) when it failed. */
    private PooledVmm start(VmmShape shape, InstanceManager.Reservation r) {
        PageServer server = null;
        Guest guest = null;
        try {
            Handover.Opened o = handover.open(shape);
            server = o.server();
            AtomicReference<CallHandler> calls = new AtomicReference<>(CallHandler.NONE);
            guest = launcher.launch(o.config(), Restorer.newId(), request -> calls.get().call(request));
            // The preload hands over guest RAM while QEMU starts, before it connects QMP: done by now.
            if (server != null) server.connected().get(10, TimeUnit.SECONDS);
            started.increment();
            return new PooledVmm(shape, guest, server, r, calls);
        } catch (Exception e) {
            failedStarts.increment();
            LOG.log(System.Logger.Level.WARNING, "cannot pre-start a VMM of shape " + shape.id() + ": " + e.getMessage());
            if (guest != null) guest.close();
            if (server != null) server.close();
            r.close();
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return null;
        }
    }

    private void drain(Deque<PooledVmm> q, int max) {
        for (int i = 0; i < max; i++) {
            PooledVmm vmm = q.pollFirst();
            if (vmm == null) return;
            vmm.discard();
        }
    }

    /** Whether a VMM of {@code shape} waits now. */
    boolean hasWaiting(VmmShape shape) {
        Deque<PooledVmm> q = ready.get(shape);
        return q != null && !q.isEmpty();
    }

    /** VMMs waiting now, over every shape. */
    int waiting() {
        return ready.values().stream().mapToInt(Deque::size).sum();
    }

    /** The VMM pids of the pooled VMMs waiting now (for tests and the instance-free view of the pool). */
    List<Long> waitingPids() {
        List<Long> pids = new ArrayList<>();
        for (Deque<PooledVmm> q : ready.values()) for (PooledVmm vmm : q) pids.add(vmm.guest().pid());
        return pids;
    }

    /** For {@code GET /stats}: the size per shape, what waits, and how takes went. */
    ObjectNode stats() {
        ObjectNode o = Json.object();
        o.put("per_shape", perShape).put("waiting", waiting()).put("hits", hits.sum()).put("misses", misses.sum())
                .put("started", started.sum()).put("failed_starts", failedStarts.sum()).put("died", died.sum())
                .put("given_up", givenUp.sum());
        ObjectNode shapes = o.putObject("shapes");
        for (var e : ready.entrySet()) shapes.put(e.getKey().id(), e.getValue().size());
        return o;
    }

    @Override
    public void close() {
        closed = true;
        List<Deque<PooledVmm>> all = new ArrayList<>(ready.values());
        for (Deque<PooledVmm> q : all) drain(q, Integer.MAX_VALUE);
    }
}
