package dev.thaw.platform;

import dev.thaw.memory.WorkingSetFile;
import dev.thaw.model.Mode;
import dev.thaw.model.Phase;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.Guest;
import dev.thaw.vm.VmException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * {@code reap}, REAP as published (ASPLOS'21): guest memory behind thaw's page server; once the
 * device state is loaded and before the guest resumes, the working-set file ({@code ws.pages},
 * the recorded pages back to back) is read in one sequential pass and every page installed with
 * {@code UFFDIO_COPY} (no wake), then one {@code UFFDIO_WAKE}; the guest never faults on its
 * working set, and the misses are served one page at a time by the page server. The read and
 * the installation are the {@code prefetch} phase, on the critical path as in the paper.
 */
final class ReapUffd extends UffdStrategy {
    @Override
    public Mode mode() {
        return Mode.REAP;
    }

    @Override
    public boolean usable(Deployed d) {
        return d.plan() != null && d.snapshot().has(Snapshot.WORKING_SET_PAGES);
    }

    @Override
    public Attempt begin(Deployed d, Timing.Clock clock) {
        return new ServedAttempt(d) {
            @Override
            public void beforeResume(Guest guest, Timing.Clock c) {
                failIfDead();
                try (Arena arena = Arena.ofConfined()) {
                    server.connected().get(10, TimeUnit.SECONDS);
                    long bytes = d.plan().workingSetPages() * 4096L;
                    MemorySegment contents = WorkingSetFile.read(d.snapshot().dir().resolve(Snapshot.WORKING_SET_PAGES), bytes, arena);
                    server.install(contents, d.plan().workingSetFileRuns());
                } catch (IOException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // The VM cannot run without its pages: a failed install fails the restore like a dead VMM (502).
                    throw new VmException("installing the working set of " + d.name() + " failed: " + e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VmException("interrupted while installing the working set of " + d.name(), e);
                }
                c.phase(Phase.PREFETCH);
            }
        };
    }
}
