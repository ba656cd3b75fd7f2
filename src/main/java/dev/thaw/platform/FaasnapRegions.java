package dev.thaw.platform;

import dev.thaw.memory.Prefetcher;
import dev.thaw.memory.RegionList;
import dev.thaw.memory.RegionsPreload;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.sys.HostCompiler;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code faasnap}, FaaSnap as published (EuroSys'22): guest memory mapped per region — the
 * snapshot's memory file private (copy-on-write; its sparse copy {@code memory.sparse} when the
 * snapshot has one, below), and every zero region of it (the record's
 * zero-page scan, tiny runs left in the file: {@link RegionList}) an anonymous private mapping
 * over it, so a zero page never touches the disk or the page cache — while a thread prefetches
 * the loading set into the page cache in working-set-group order, from before QEMU starts,
 * beside the restore and the guest's run. Nothing waits for the prefetch.
 *
 * <p>QEMU maps guest RAM itself, so the layout is applied inside QEMU by a small preload
 * ({@code src/main/c/thaw-regions.c}, {@link RegionsPreload}) that reads the region list this
 * strategy writes once per snapshot under the run directory ({@code regions/}, named by the
 * snapshot id and the list's hash, so a list is never rewritten under a running VMM). The
 * prefetch skips the anonymous regions: reading them would fill the page cache for nothing.
 */
final class FaasnapRegions extends RestoreStrategy.Recorded {
    FaasnapRegions() {
        super(Mode.FAASNAP);
    }

    @Override
    public Attempt begin(Deployed d, Timing.Clock clock) {
        // The sparse copy where there is one: same bytes, but a read-ahead window around a data
        // fault then reads nothing from disk for the zero pages it spans (holes), where the plain
        // file has them on disk (measured: 7-20 MiB read by QEMU against 20-33 MiB for hello at
        // read_ahead_kb 8192). The regions are the same either way.
        Path memory = d.snapshot().has(Snapshot.SPARSE_MEMORY) ? d.snapshot().sparseMemoryFile() : d.snapshot().memoryFile();
        long start = clock.now();
        return new RestoreStrategy.PrefetchingAttempt(memory, start, Prefetcher.start(memory, d.plan().regionPrefetchRuns())) {
            @Override
            public VmConfig configure(VmConfig vm, Host host) {
                try {
                    Path list = listFor(d, host.runDir());
                    return vm.withRegions(new VmConfig.Regions(RegionsPreload.get(host.cacheDir()), list));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the region list of " + d.name(), e);
                }
            }
        };
    }

    /** The snapshot's region list under {@code runDir/regions/}, written the first time it is needed. */
    static Path listFor(Deployed d, Path runDir) throws IOException {
        Deployed.LoadPlan plan = d.plan();
        String text = RegionList.format(plan.totalPages(), plan.zeroRegions());
        String name = d.snapshot().manifest().snapshotId() + "-" + HostCompiler.key(text.getBytes(StandardCharsets.US_ASCII)) + ".regions";
        Path list = runDir.resolve("regions").resolve(name);
        if (!Files.isRegularFile(list)) RegionList.write(list, plan.totalPages(), plan.zeroRegions());
        return list;
    }
}
