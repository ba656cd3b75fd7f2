package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.guest.GuestImage;
import dev.thaw.memory.PageCache;
import dev.thaw.memory.Prefetcher;
import dev.thaw.memory.WorkingSet;
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
import java.util.List;

/**
 * Records a snapshot's working set, once, right after the snapshot is taken: restore it with
 * every file cold in the page cache, invoke the function with its record input while sampling
 * the pages the VMM maps, then scan the memory file for zero pages and write the sparse copy
 * FaaSnap restores from. The outputs ({@code ws.json}, {@code memory.sparse}) are sealed into
 * the snapshot's manifest with the rest.
 */
final class Recorder {
    static final int SAMPLE_INTERVAL_MS = 4;

    private Recorder() {}

    static WorkingSet record(Path snapDir, String snapshotId, FunctionSpec spec, VmConfig bootConfig,
                             GuestImage image, GuestLauncher launcher, Duration timeout,
                             CallHandler calls) throws IOException {
        Path memory = snapDir.resolve(Snapshot.MEMORY);
        Path vmstate = snapDir.resolve(Snapshot.VMSTATE);
        for (Path f : List.of(memory, vmstate, image.rootfs())) PageCache.drop(f);
        VmConfig cfg = VmConfig.restore(image, bootConfig.memoryMib(), bootConfig.vcpus(), bootConfig.accel(), memory, vmstate);
        List<BitSet> groups;
        long totalPages;
        try (Guest vm = launcher.launch(cfg, "r-" + Ids.shortId(), calls)) {
            if (vm.pid() < 0) throw new IOException("the working set is recorded from the VMM's page tables; this guest has no VMM process");
            vm.loadState(timeout);
            try (WorkingSetSampler sampler = WorkingSetSampler.start(vm.pid(), memory, SAMPLE_INTERVAL_MS)) {
                vm.resume();
                // Reseeded like every first call after a restore, so the pages the reseed touches
                // (kernel RNG, Python's random, after_restore hooks) are in the working set too.
                JsonNode reply = vm.request(GuestRequests.invoke(spec.warmupEvent(), "record", true),
                        Duration.ofSeconds(spec.timeoutSeconds()));
                if (!reply.path("ok").asBoolean()) {
                    throw new IOException("the record input failed: " + reply.path("error").path("message").asText());
                }
                groups = sampler.finish();
                totalPages = sampler.totalPages();
            }
        }
        BitSet zero = ZeroPages.scan(memory);
        WorkingSet ws = WorkingSet.of(snapshotId, totalPages, SAMPLE_INTERVAL_MS, groups, zero);
        ws.write(snapDir.resolve(Snapshot.WORKING_SET));
        Path sparse = snapDir.resolve(Snapshot.SPARSE_MEMORY);
        Prefetcher.writeSparseCopy(memory, sparse, zero);
        PageCache.drop(sparse);
        PageCache.drop(memory);
        return ws;
    }
}
