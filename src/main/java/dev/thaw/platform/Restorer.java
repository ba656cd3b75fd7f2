package dev.thaw.platform;

import dev.thaw.guest.GuestImage;
import dev.thaw.model.Mode;
import dev.thaw.model.Phase;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.Accel;
import dev.thaw.vm.Guest;
import dev.thaw.vm.GuestLauncher;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Brings up new instances: the data path of a restore, and of a cold boot.
 *
 * <p>A restore, in order (docs/design.md §2): verify the snapshot (a stat per file); let the
 * {@link RestoreStrategy} begin (FaaSnap starts its prefetch here); reserve budget and launch the
 * VMM paused with the strategy's memory file mapped copy-on-write; load the device state; the
 * strategy's {@code beforeResume} (REAP reads its working set); resume. Each step is a timed
 * {@link Phase}. Work a strategy leaves running beside the instance is tracked per function, so
 * a page-cache drop can wait for it instead of racing it.
 */
final class Restorer {
    /** A restored instance, the strategy actually used, and the strategy's hooks for the rest of the invocation. */
    record Restore(Instance instance, Mode strategy, RestoreStrategy.Attempt attempt) {}

    private final Platform.Config config;
    private final GuestLauncher launcher;
    private final GuestImage image;
    private final InstanceManager instances;
    private final Metrics metrics;
    private final GuestCalls calls;
    private final Map<String, Set<CompletableFuture<?>>> background = new ConcurrentHashMap<>();
    private volatile VmmPool pool;

    Restorer(Platform.Config config, GuestLauncher launcher, GuestImage image, InstanceManager instances, Metrics metrics,
             GuestCalls calls) {
        this.config = config;
        this.launcher = launcher;
        this.image = image;
        this.instances = instances;
        this.metrics = metrics;
        this.calls = calls;
    }

    /** The pre-started VMMs restores may take (null: none). */
    void pool(VmmPool pool) {
        this.pool = pool;
    }

    /** Restores with {@code mode}'s strategy; one whose snapshot lacks what it needs falls back to vanilla, with a warning. */
    Restore restore(Deployed d, Mode mode, Timing.Clock clock, List<String> warnings) {
        Snapshot snap = d.snapshot();
        snap.verify();
        RestoreStrategy strategy = RestoreStrategy.of(mode);
        if (snap.pending()) {
            strategy = RestoreStrategy.forPending(strategy, d, warnings);
            metrics.increment("thaw_early_restores_total", "Restores started while the snapshot's memory was still arriving from a peer",
                    Metrics.labels("function", d.name()));
        } else if (!strategy.usable(d)) {
            warnings.add("no current working-set record for " + d.name() + "'s snapshot; restored with vanilla instead of " + mode.id());
            strategy = RestoreStrategy.VANILLA;
        }
        var m = snap.manifest().machine();
        GuestImage img = imageFor(snap);
        RestoreStrategy.Attempt attempt = strategy.begin(d, clock);
        track(d.name(), attempt.background());
        VmmPool p = pool;
        VmmShape shape = VmmShape.of(img, m);
        Room room;
        try {
            room = room(p, shape, m.memoryMib(), attempt.takesPooledVmm());
        } catch (RuntimeException e) {
            attempt.abandon();
            throw e;
        }
        PooledVmm pooled = room.pooled();
        InstanceManager.Reservation reservation = room.reservation();
        Guest guest;
        if (pooled != null) {
            try {
                attempt.bind(pooled.server()); // a page server binds once: this VMM serves this snapshot, ever
                pooled.callsTo(calls.forCaller(d.spec()));
            } catch (RuntimeException e) {
                attempt.abandon();
                pooled.discard();
                track(d.name(), p.refill(shape));
                throw e;
            }
            reservation = pooled.reservation();
            guest = pooled.guest();
            attempt = new Refilling(attempt, () -> track(d.name(), p.refill(shape)));
        } else {
            try {
                VmConfig cfg = attempt.configure(VmConfig.restore(img, m.memoryMib(), m.vcpus(), Accel.valueOf(m.accel().toUpperCase()),
                        attempt.memoryFile(), snap.vmstateFile()), new RestoreStrategy.Host(config.runDir(), config.cacheDir()));
                guest = launcher.launch(cfg, newId(), calls.forCaller(d.spec()));
            } catch (RuntimeException e) {
                attempt.abandon();
                reservation.close();
                throw e;
            }
        }
        Instance inst = instances.register(reservation, d.name(), strategy.mode(), guest);
        inst.pageServer(attempt.pageServer());
        clock.phase(pooled != null ? Phase.VMM_BIND : Phase.VMM_START);
        try {
            if (pooled != null) guest.loadState(snap.vmstateFile(), config.bootTimeout());
            else guest.loadState(config.bootTimeout());
            clock.phase(Phase.STATE_LOAD);
            attempt.beforeResume(guest, clock);
            guest.resume();
            clock.phase(Phase.RESUME);
            metrics.observe("thaw_restore_duration_seconds", "Time from request to a resumed VM, by strategy",
                    Metrics.labels("strategy", strategy.mode().id()), clock.coldStartMs() / 1000);
            return new Restore(inst, strategy.mode(), attempt);
        } catch (RuntimeException e) {
            instances.discard(inst);
            if (pooled != null) track(d.name(), p.refill(shape));
            throw e;
        }
    }

    /** What a restore runs in: a pooled VMM (holding its own budget), or a reservation for a QEMU of its own. */
    private record Room(PooledVmm pooled, InstanceManager.Reservation reservation) {}

    /**
     * Finds a restore its VMM (docs/design.md §2, "Pre-started VMMs"). One that can use the pool
     * takes a VMM of its shape if one waits; otherwise it reserves budget, and when that needs
     * room it gives up pooled VMMs of other shapes, never one of its own (should one arrive
     * meanwhile, from a refill, it takes that instead), before idle instances are evicted. One
     * that cannot use the pool gives up VMMs of other shapes first and its own shape's last.
     */
    private Room room(VmmPool p, VmmShape shape, int memoryMib, boolean takesPooled) {
        if (p == null) return new Room(null, instances.reserve(memoryMib));
        if (!takesPooled) return new Room(null, instances.reserve(memoryMib, () -> p.giveUpOne(shape)));
        PooledVmm vmm = p.take(shape);
        while (vmm == null) {
            InstanceManager.Reservation r = instances.tryReserve(memoryMib);
            if (r != null) return new Room(null, r);
            if (p.giveUpOther(shape)) continue;
            if (!p.hasWaiting(shape)) return new Room(null, instances.reserve(memoryMib, () -> p.giveUpOther(shape)));
            vmm = p.take(shape);
        }
        return new Room(vmm, null);
    }

    /** An attempt that took a pre-started VMM: once the reply is in, the pool starts its replacement (not beside the restore). */
    private record Refilling(RestoreStrategy.Attempt inner, Runnable refill) implements RestoreStrategy.Attempt {
        @Override
        public Path memoryFile() {
            return inner.memoryFile();
        }

        @Override
        public dev.thaw.memory.PageServer pageServer() {
            return inner.pageServer();
        }

        @Override
        public void beforeResume(Guest guest, Timing.Clock clock) {
            inner.beforeResume(guest, clock);
        }

        @Override
        public void afterReply(Timing.Clock clock) {
            inner.afterReply(clock);
            refill.run();
        }

        @Override
        public CompletableFuture<?> background() {
            return inner.background();
        }
    }

    /** The shapes of the deployed functions that restore with a recorded working set (the pool pre-starts those). */
    List<VmmShape> deployedShapes(List<Deployed> deployed) {
        List<VmmShape> shapes = new ArrayList<>();
        for (Deployed d : deployed) {
            if (d.plan() == null) continue;
            try {
                VmmShape s = VmmShape.of(imageFor(d.snapshot()), d.snapshot().manifest().machine());
                if (!shapes.contains(s)) shapes.add(s);
            } catch (RuntimeException e) {
                // a stale snapshot restores with nothing: no VMM for it
            }
        }
        return shapes;
    }

    /** Boots a fresh VM and loads the function: the {@code cold} baseline. */
    Instance boot(Deployed d, Timing.Clock clock) {
        FunctionSpec spec = d.spec();
        VmConfig cfg = VmConfig.boot(image, spec.memoryMib(), spec.vcpus(), launcher.accel(), null);
        InstanceManager.Reservation reservation = instances.reserve(spec.memoryMib());
        Guest guest;
        try {
            guest = launcher.launch(cfg, newId(), calls.forCaller(spec));
        } catch (RuntimeException e) {
            reservation.close();
            throw e;
        }
        Instance inst = instances.register(reservation, spec.name(), Mode.COLD, guest);
        clock.phase(Phase.VMM_START);
        try {
            guest.awaitReady(config.bootTimeout());
            clock.phase(Phase.BOOT);
            GuestRequests.deployStep(guest, GuestRequests.load(d.code()), config.bootTimeout(), spec.name(), "loading");
            clock.phase(Phase.FUNCTION_LOAD);
            return inst;
        } catch (RuntimeException e) {
            instances.discard(inst);
            throw e;
        }
    }

    static String newId() {
        return "i-" + Ids.shortId();
    }

    private void track(String function, CompletableFuture<?> work) {
        if (work.isDone()) return;
        Set<CompletableFuture<?>> set = background.computeIfAbsent(function, k -> ConcurrentHashMap.newKeySet());
        set.add(work);
        work.whenComplete((r, e) -> set.remove(work));
    }

    /** Waits for the work restores of {@code function} left running (prefetches), whatever its outcome. */
    void awaitBackground(String function) {
        Set<CompletableFuture<?>> set = background.get(function);
        if (set == null) return;
        for (CompletableFuture<?> f : List.copyOf(set)) f.handle((r, e) -> null).join();
    }

    /** Every file a restore of {@code d} reads: the snapshot's and the root disk image. */
    List<Path> snapshotFiles(Deployed d) {
        List<Path> files = new ArrayList<>(d.snapshot().files());
        files.add(imageFor(d.snapshot()).rootfs());
        return files;
    }

    /** The guest image a snapshot was taken with; restoring needs that exact root disk. */
    GuestImage imageFor(Snapshot snap) {
        String key = snap.manifest().imageKey();
        if (key.equals(image.key())) return image;
        Path dir = config.cacheDir().resolve("images").resolve(key);
        if (!Files.isRegularFile(dir.resolve("rootfs.ext4"))) {
            throw new ThawException(ThawException.Kind.CONFLICT, "snapshot_stale", "function " + snap.manifest().function()
                    + " was snapshotted with guest image " + key + ", which is no longer cached; deploy it again");
        }
        try {
            return new GuestImage(key, dir, Files.readString(dir.resolve("kernel.release")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
