package dev.thaw.platform;

import dev.thaw.guest.AgentConnection;
import dev.thaw.guest.GuestImage;
import dev.thaw.memory.PageCache;
import dev.thaw.memory.Prefetcher;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.Accel;
import dev.thaw.vm.QemuVm;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Brings up new instances: the data path of a restore, and of a cold boot.
 *
 * <p>A restore, in order (design.md §2): verify the snapshot (a stat per file); for
 * {@code faasnap}, start prefetching the loading set from the sparse memory file; start QEMU with
 * the memory file mapped copy-on-write; load the device state; for {@code reap}, read the whole
 * working set into the page cache; resume. Each step is a timed phase of the invocation.
 * {@code vanilla} and {@code cached} take only the common steps — {@code cached} differs in what
 * the page cache already holds, which the caller arranges before the clock starts.
 */
final class Restorer {
    /** A restored instance, the strategy actually used, and FaaSnap's prefetch still running beside it. */
    record Restore(Instance instance, Mode strategy, CompletableFuture<Prefetcher.Result> prefetch, long prefetchStartNanos) {}

    private final Platform.Config config;
    private final GuestImage image;
    private final Accel accel;
    private final InstancePool pool;
    private final Metrics metrics;
    private final AgentConnection.CallHandler calls;

    Restorer(Platform.Config config, GuestImage image, Accel accel, InstancePool pool, Metrics metrics,
             AgentConnection.CallHandler calls) {
        this.config = config;
        this.image = image;
        this.accel = accel;
        this.pool = pool;
        this.metrics = metrics;
        this.calls = calls;
    }

    /** Restores with {@code strategy}; reap and faasnap without a current record fall back to vanilla, with a warning. */
    Restore restore(Deployed d, Mode strategy, Timing.Clock clock, List<String> warnings) {
        Snapshot snap = d.snapshot();
        snap.verify();
        Deployed.LoadPlan plan = d.plan();
        boolean needsRecord = strategy == Mode.REAP || strategy == Mode.FAASNAP;
        if (needsRecord && (plan == null || (strategy == Mode.FAASNAP && !snap.has(Snapshot.SPARSE_MEMORY)))) {
            warnings.add("no current working-set record for " + d.name() + "'s snapshot; restored with vanilla instead of " + strategy.id());
            strategy = Mode.VANILLA;
        }
        Path memory = strategy == Mode.FAASNAP ? snap.sparseMemoryFile() : snap.memoryFile();
        long prefetchStart = System.nanoTime();
        CompletableFuture<Prefetcher.Result> prefetch = strategy == Mode.FAASNAP ? Prefetcher.start(memory, plan.faasnapRuns()) : null;
        var m = snap.manifest().machine();
        VmConfig cfg = VmConfig.restore(imageFor(snap), m.memoryMib(), m.vcpus(), Accel.valueOf(m.accel().toUpperCase()),
                memory, snap.vmstateFile());
        String id = "i-" + Ids.shortId();
        QemuVm vm = startVm(cfg, id, m.memoryMib());
        clock.phase("vmm_start");
        try {
            vm.loadState(config.bootTimeout());
            clock.phase("state_load");
            if (strategy == Mode.REAP) {
                Prefetcher.load(memory, plan.reapRuns());
                clock.phase("prefetch");
            }
            AgentConnection agent = new AgentConnection(vm.agentChannel());
            agent.onCall(calls);
            vm.resume();
            clock.phase("resume");
            metrics.observe("thaw_restore_duration_seconds", "Time from request to a resumed VM, by strategy",
                    Metrics.labels("strategy", strategy.id()), clock.coldStartMs() / 1000);
            Instance inst = pool.register(new Instance(id, d.name(), strategy.id(), m.memoryMib(), vm, agent));
            return new Restore(inst, strategy, prefetch, prefetchStart);
        } catch (IOException e) {
            vm.close();
            pool.unreserve(m.memoryMib());
            throw new UncheckedIOException("prefetching the working set of " + d.name(), e);
        } catch (RuntimeException e) {
            vm.close();
            pool.unreserve(m.memoryMib());
            throw e;
        }
    }

    /** Boots a fresh VM and loads the function: the {@code cold} baseline. */
    Instance boot(Deployed d, Timing.Clock clock) {
        FunctionSpec spec = d.spec();
        String id = "i-" + Ids.shortId();
        QemuVm vm = startVm(VmConfig.boot(image, spec.memoryMib(), spec.vcpus(), accel, null), id, spec.memoryMib());
        clock.phase("vmm_start");
        AgentConnection agent = new AgentConnection(vm.agentChannel());
        agent.onCall(calls);
        Instance inst = pool.register(new Instance(id, spec.name(), "cold", spec.memoryMib(), vm, agent));
        try {
            agent.awaitReady(config.bootTimeout());
            clock.phase("boot");
            GuestRequests.deployStep(agent, GuestRequests.load(d.code()),
                    config.bootTimeout(), spec.name(), "loading");
            clock.phase("function_load");
            return inst;
        } catch (RuntimeException e) {
            pool.discard(inst);
            throw e;
        }
    }

    /** Starts QEMU inside a budget reservation (made first, so a refused start costs nothing). */
    private QemuVm startVm(VmConfig cfg, String id, int memoryMib) {
        pool.reserve(memoryMib);
        try {
            return QemuVm.start(cfg.withHugePageAdvice(config.hugePageAdvice()), config.newRunDir(id), config.bootTimeout());
        } catch (RuntimeException e) {
            pool.unreserve(memoryMib);
            throw e;
        }
    }

    /** Every file a restore of {@code d} reads: the snapshot's and the root disk image. */
    List<Path> snapshotFiles(Deployed d) {
        List<Path> files = new ArrayList<>(d.snapshot().files());
        files.add(imageFor(d.snapshot()).rootfs());
        return files;
    }

    /** Makes every file of the snapshot resident, reading only what is not already cached. */
    void warmPageCache(Deployed d) {
        for (Path f : snapshotFiles(d)) {
            try {
                if (PageCache.residentCount(f) < (Files.size(f) + 4095) / 4096) PageCache.touchSequential(f);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load " + f + " into the page cache", e);
            }
        }
    }

    /** The guest image a snapshot was taken with; restoring needs that exact root disk. */
    GuestImage imageFor(Snapshot snap) {
        String key = snap.manifest().imageKey();
        if (key.equals(image.key())) return image;
        Path dir = config.cacheDir().resolve("images").resolve(key);
        if (!Files.isRegularFile(dir.resolve("rootfs.ext4"))) {
            throw new ThawException(409, "snapshot_stale", "function " + snap.manifest().function()
                    + " was snapshotted with guest image " + key + ", which is no longer cached; deploy it again");
        }
        try {
            return new GuestImage(key, dir, Files.readString(dir.resolve("kernel.release")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
