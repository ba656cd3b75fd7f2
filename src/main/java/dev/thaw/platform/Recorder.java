package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.guest.GuestImage;
import dev.thaw.memory.PageCache;
import dev.thaw.memory.PageServer;
import dev.thaw.memory.Prefetcher;
import dev.thaw.memory.UffdPreload;
import dev.thaw.memory.Runs;
import dev.thaw.memory.WorkingSet;
import dev.thaw.memory.WorkingSetFile;
import dev.thaw.memory.WorkingSetSampler;
import dev.thaw.memory.ZeroPages;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.CallHandler;
import dev.thaw.vm.Guest;
import dev.thaw.vm.GuestLauncher;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records a snapshot's working set, once, right after the snapshot is taken: restore it with
 * every file cold in the page cache and invoke the function with its record input, once per
 * {@link RecordMethod} — through thaw's page server, logging every fault (REAP's method: the
 * exact pages, in first-touch order, grouped into 4 ms windows for FaaSnap), and over a file
 * mapping, sampling the VMM's pagemap every 4 ms (pages first seen in one sample form a group).
 * The configured method's record is the one restores use; both sizes are kept in the record
 * ({@code pages_by_method}) so every function reports them side by side. Then the memory file is
 * scanned for zero pages, and the working-set file REAP reads ({@code ws.pages}) and the sparse
 * copy FaaSnap restores from are written. The outputs ({@code ws.json}, {@code ws.pages},
 * {@code memory.sparse}) are sealed into the snapshot's manifest with the rest.
 */
final class Recorder {
    static final int SAMPLE_INTERVAL_MS = 4;
    static final String DUMP_PROPERTY = "thaw.record.dump";

    /** Where a record's VMs run and the preload library is built. */
    record Setup(RecordMethod method, Path runDir, Path cacheDir) {}

    private record Groups(List<BitSet> groups, long totalPages) {
        long pages() {
            BitSet all = new BitSet();
            for (BitSet g : groups) all.or(g);
            return all.cardinality();
        }
    }

    private Recorder() {}

    static WorkingSet record(Path snapDir, String snapshotId, FunctionSpec spec, VmConfig bootConfig,
                             GuestImage image, GuestLauncher launcher, Duration timeout,
                             CallHandler calls, Setup setup) throws IOException {
        Path memory = snapDir.resolve(Snapshot.MEMORY);
        Path vmstate = snapDir.resolve(Snapshot.VMSTATE);
        VmConfig cfg = VmConfig.restore(image, bootConfig.memoryMib(), bootConfig.vcpus(), bootConfig.accel(), memory, vmstate);
        Map<RecordMethod, Groups> byMethod = new LinkedHashMap<>();
        // The chosen method first: if the other one fails, the record is still made.
        List<RecordMethod> order = setup.method() == RecordMethod.UFFD
                ? List.of(RecordMethod.UFFD, RecordMethod.PAGEMAP) : List.of(RecordMethod.PAGEMAP, RecordMethod.UFFD);
        if (System.getProperty(DUMP_PROPERTY) != null) {
            // A second uffd record of the same snapshot, not used: how much two runs of the record
            // input differ, against which the two methods' difference can be read.
            for (Path f : List.of(memory, vmstate, image.rootfs())) PageCache.drop(f);
            throughPageServer(cfg, spec, launcher, timeout, calls, setup);
        }
        IOException otherFailure = null;
        for (RecordMethod m : order) {
            for (Path f : List.of(memory, vmstate, image.rootfs())) PageCache.drop(f);
            try {
                byMethod.put(m, m == RecordMethod.UFFD
                        ? throughPageServer(cfg, spec, launcher, timeout, calls, setup)
                        : sampled(cfg, spec, launcher, timeout, calls));
            } catch (IOException | RuntimeException e) {
                if (m == setup.method()) throw e;
                otherFailure = e instanceof IOException io ? io : new IOException(e);
            }
        }
        if (otherFailure != null) {
            System.getLogger(Recorder.class.getName()).log(System.Logger.Level.WARNING, "the comparison record ("
                    + order.get(1).id() + ") of " + spec.name() + " failed: " + otherFailure.getMessage());
        }
        Map<String, Long> sizes = new LinkedHashMap<>();
        byMethod.forEach((m, g) -> sizes.put(m.id(), g.pages()));
        Groups used = byMethod.get(setup.method());
        BitSet zero = ZeroPages.scan(memory);
        WorkingSet ws = WorkingSet.of(snapshotId, used.totalPages(), SAMPLE_INTERVAL_MS, used.groups(), zero)
                .withMethod(setup.method().id(), sizes);
        ws.write(snapDir.resolve(Snapshot.WORKING_SET));
        Path pages = snapDir.resolve(Snapshot.WORKING_SET_PAGES);
        WorkingSetFile.write(memory, pages, Runs.of(ws.pages()));
        PageCache.drop(pages);
        Path sparse = snapDir.resolve(Snapshot.SPARSE_MEMORY);
        Prefetcher.writeSparseCopy(memory, sparse, zero);
        PageCache.drop(sparse);
        PageCache.drop(memory);
        return ws;
    }

    /** REAP's record: every fault the page server serves, from the VMM's start to the reply. */
    private static Groups throughPageServer(VmConfig restore, FunctionSpec spec, GuestLauncher launcher, Duration timeout,
                                            CallHandler calls, Setup setup) throws IOException {
        Path socket = setup.runDir().resolve("uffd").resolve("r-" + Ids.shortId() + ".sock");
        VmConfig cfg = restore.withUffd(new VmConfig.Uffd(UffdPreload.get(setup.cacheDir()), socket));
        try (PageServer server = PageServer.start(socket, restore.memoryFile(), PageServer.Options.DEFAULT);
             Guest vm = launcher.launch(cfg, "r-" + Ids.shortId(), calls)) {
            if (vm.pid() < 0) throw new IOException("a userfaultfd record needs a VMM process; this guest has none");
            vm.loadState(timeout);
            int loaded = server.log().size();
            vm.resume();
            int resumed = server.log().size();
            invokeRecordInput(vm, spec);
            if (server.done().isCompletedExceptionally()) throw new IOException("the page server failed during the record");
            dump(spec.name() + "-uffd-faults.txt", server.log().dump("loaded " + loaded + "\nresumed " + resumed + "\n"));
            return new Groups(server.log().groups(0, SAMPLE_INTERVAL_MS), restore.memoryMib() * 256L);
        }
    }

    /** The pagemap record: the VMM's mapped pages of the memory file, sampled every 4 ms. */
    private static Groups sampled(VmConfig cfg, FunctionSpec spec, GuestLauncher launcher, Duration timeout,
                                  CallHandler calls) throws IOException {
        try (Guest vm = launcher.launch(cfg, "r-" + Ids.shortId(), calls)) {
            if (vm.pid() < 0) throw new IOException("the working set is recorded from the VMM's page tables; this guest has no VMM process");
            vm.loadState(timeout);
            try (WorkingSetSampler sampler = WorkingSetSampler.start(vm.pid(), cfg.memoryFile(), SAMPLE_INTERVAL_MS)) {
                vm.resume();
                invokeRecordInput(vm, spec);
                List<BitSet> groups = sampler.finish();
                StringBuilder b = new StringBuilder();
                for (int g = 0; g < groups.size(); g++) groups.get(g).stream().forEach(page -> b.append(page).append('\n'));
                dump(spec.name() + "-pagemap-pages.txt", b.toString());
                return new Groups(groups, sampler.totalPages());
            }
        }
    }

    /**
     * With {@code -Dthaw.record.dump=DIR} (a diagnostic, docs/results/2026-11-30-uffd/ws-compare):
     * each record's pages go to DIR ({@code <fn>-uffd-faults[-N].txt}: the phase positions, then
     * one fault a line; {@code <fn>-pagemap-pages.txt}: the pages in sample order), and a deploy
     * takes an extra uffd record first, so the two methods can be compared with two runs of one.
     */
    private static void dump(String name, String text) throws IOException {
        String dir = System.getProperty(DUMP_PROPERTY);
        if (dir == null) return;
        Path d = java.nio.file.Files.createDirectories(Path.of(dir));
        Path f = d.resolve(name);
        for (int i = 2; java.nio.file.Files.exists(f); i++) f = d.resolve(name.replace(".txt", "-" + i + ".txt"));
        java.nio.file.Files.writeString(f, text);
    }

    /**
     * The record input, reseeded like every first call after a restore, so the pages the reseed
     * touches (kernel RNG, Python's random, after_restore hooks) are in the working set too.
     */
    private static void invokeRecordInput(Guest vm, FunctionSpec spec) throws IOException {
        JsonNode reply = vm.request(GuestRequests.invoke(spec.warmupEvent(), "record", true),
                Duration.ofSeconds(spec.timeoutSeconds()));
        if (!reply.path("ok").asBoolean()) {
            throw new IOException("the record input failed: " + reply.path("error").path("message").asText());
        }
    }
}
