package dev.thaw.platform;

import dev.thaw.memory.ConcurrentInstall;
import dev.thaw.memory.RegionList;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.VmConfig;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * {@code thaw}: guest memory over userfaultfd with the recorded working set installed
 * concurrently ({@link ConcurrentInstall}): the memory file's zero regions (FaaSnap's, {@link
 * RegionList}) handed to the kernel as anonymous memory, the set's other zero pages by {@code UFFDIO_ZEROPAGE},
 * then the loading set by {@code UFFDIO_COPY} in working-set-group order, from the moment QEMU
 * hands over its memory, beside the state load and the guest's run; the page server answers a
 * fault at once, ahead of the install. Nothing waits for the install: like FaaSnap's prefetch it
 * is reported as a concurrent {@code prefetch} when it ended before the reply. The install's
 * thread starts just before QEMU and first reads {@code ws.pages} (REAP's contiguous working-set
 * file) in one sequential pass, so by the handshake the pages are in memory and the install is
 * only {@code UFFDIO_COPY}s ({@link ConcurrentInstall#startFromWorkingSetFile}). It takes a
 * pre-started VMM from the {@link VmmPool} when one of the snapshot's shape waits ({@code vmm_bind}
 * instead of {@code vmm_start}); the install (its read of {@code ws.pages} included) then starts
 * at the bind.
 */
final class ThawStrategy extends UffdStrategy {
    @Override
    public Mode mode() {
        return Mode.THAW;
    }

    @Override
    public boolean usable(Deployed d) {
        return d.plan() != null;
    }

    @Override
    public Attempt begin(Deployed d, Timing.Clock clock) {
        long start = clock.now();
        CompletableFuture<Long> installEnd = new CompletableFuture<>(); // clock time the install ended
        return new ServedAttempt(d) {
            @Override
            public VmConfig configure(VmConfig vm, Host host) {
                VmConfig served = super.configure(vm, host);
                install(); // before QEMU starts, so the read of ws.pages overlaps QEMU's start
                return served;
            }

            @Override
            public boolean takesPooledVmm() {
                return !d.snapshot().pending(); // a pooled page server reads without waiting: a snapshot still arriving starts its own
            }

            @Override
            public void bind(dev.thaw.memory.PageServer pooled) {
                super.bind(pooled);
                install();
            }

            /** Older snapshots without ws.pages read the memory file after the handshake. */
            private void install() {
                Path wsPages = d.snapshot().dir().resolve(Snapshot.WORKING_SET_PAGES);
                var plan = d.plan();
                var install = d.snapshot().has(Snapshot.WORKING_SET_PAGES)
                        ? ConcurrentInstall.startFromWorkingSetFile(server, wsPages, plan.workingSetFileRuns(),
                                plan.zeroRegions(), plan.zeroRunsOutsideRegions(), plan.exactLoadingRuns())
                        : ConcurrentInstall.start(server, memoryFile(), plan.zeroRegions(), plan.zeroRunsOutsideRegions(),
                                plan.faasnapRuns());
                install.whenComplete((r, e) -> {
                            if (e == null) installEnd.complete(clock.now());
                            else installEnd.completeExceptionally(e);
                        });
            }

            @Override
            public void abandon() {
                super.abandon();
                installEnd.cancel(false);
            }

            @Override
            public void afterReply(Timing.Clock c) {
                if (installEnd.isDone() && !installEnd.isCompletedExceptionally()) c.concurrentPrefetch(start, installEnd.join());
            }

            @Override
            public CompletableFuture<?> background() {
                return installEnd;
            }
        };
    }
}
