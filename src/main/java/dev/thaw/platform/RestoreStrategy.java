package dev.thaw.platform;

import dev.thaw.memory.PageCache;
import dev.thaw.memory.PageServer;
import dev.thaw.memory.Prefetcher;
import dev.thaw.model.Mode;
import dev.thaw.model.Phase;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.Guest;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * How a restore loads guest memory: the one place a memory strategy plugs into the restore path
 * (docs/design.md §2). The {@link Restorer} runs every restore in the same order and calls the
 * strategy at fixed points:
 *
 * <pre>
 *   prepare        before the clock starts (CACHED: fill the page cache; not part of the time)
 *   begin          before the VMM starts: choose the memory file, start concurrent work (FAASNAP)
 *   configure      the VM to launch (its memory backend or layout)
 *   launch VMM ─ loadState
 *   beforeResume   the guest is loaded but paused (REAP: read the working set)
 *   resume ─ request ─ reply
 *   afterReply     the answer is in; must not block (FAASNAP: note the prefetch's end if it has one)
 * </pre>
 *
 * A strategy that needs the working-set record is {@link #usable} only when the snapshot has a
 * current one; the restorer falls back to {@link #VANILLA} otherwise, with a warning.
 */
interface RestoreStrategy {
    Mode mode();

    /** Whether the snapshot has what this strategy needs. */
    default boolean usable(Deployed d) {
        return true;
    }

    /** Work that is a precondition of the strategy but not part of a restore's time. */
    default void prepare(Deployed d, Supplier<List<Path>> snapshotFiles) {}

    /** Starts one restore of {@code d}. */
    Attempt begin(Deployed d, Timing.Clock clock);

    /** One restore in progress. */
    interface Attempt {
        /** The memory file the VMM maps (private, copy-on-write). */
        Path memoryFile();

        /**
         * The VM to launch, from the restore's default (the memory file mapped private). A strategy
         * that serves guest memory itself (a userfaultfd backend) starts its page server and
         * changes the memory backend here, just before the VMM starts.
         */
        default VmConfig configure(VmConfig vm, Host host) {
            return vm;
        }

        /** Whether this restore may run in a pre-started VMM from the pool (then {@link #bind} replaces {@link #configure}). */
        default boolean takesPooledVmm() {
            return false;
        }

        /**
         * Binds a pre-started VMM's page server (which holds its userfaultfd) to this restore's
         * memory file: from now on it serves that snapshot. Failing here fails the restore (502).
         */
        default void bind(PageServer server) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " does not use pre-started VMMs");
        }

        /** The page server of a userfaultfd strategy (it lives as long as the VMM), else null. */
        default PageServer pageServer() {
            return null;
        }

        /** The restore failed before the VMM was registered as an instance: release what {@link #configure} started. */
        default void abandon() {}

        /** Runs after the device state is loaded and before the guest resumes; may add a phase. */
        default void beforeResume(Guest guest, Timing.Clock clock) {}

        /** Runs when the reply is in; must not block. */
        default void afterReply(Timing.Clock clock) {}

        /** Work still running beside the instance (FAASNAP's prefetch); complete when there is none. */
        default CompletableFuture<?> background() {
            return CompletableFuture.completedFuture(null);
        }
    }

    /** Where a strategy may put sockets ({@code runDir}) and find built helpers ({@code cacheDir}). */
    record Host(Path runDir, Path cacheDir) {}

    RestoreStrategy VANILLA = new Plain(Mode.VANILLA);
    RestoreStrategy CACHED = new Cached();
    RestoreStrategy REAP = new ReapUffd();
    RestoreStrategy REAP_CACHE = new Reap();
    RestoreStrategy FAASNAP = new FaasnapRegions();
    RestoreStrategy FAASNAP_SPARSE = new FaasnapSparse();
    RestoreStrategy UFFD = new UffdStrategy();
    RestoreStrategy THAW = new ThawStrategy();

    /**
     * The strategy for a restore of a snapshot whose memory is still arriving
     * ({@code Snapshot.pending}): only a page server can wait for a page, so a mode that maps the
     * file (vanilla, cached, reap-cache, faasnap) is served with {@code thaw} instead, with a
     * warning, rather than waiting seconds for the whole file; {@code thaw} there installs from
     * {@code ws.pages} (here already), so without one the restore falls back to {@code uffd}.
     */
    static RestoreStrategy forPending(RestoreStrategy asked, Deployed d, List<String> warnings) {
        boolean wsPages = d.plan() != null && d.snapshot().has(Snapshot.WORKING_SET_PAGES);
        if ((asked == THAW || asked == REAP) && wsPages || asked == UFFD) return asked;
        RestoreStrategy used = wsPages ? THAW : UFFD;
        warnings.add(d.name() + "'s snapshot is still arriving from a peer; restored with " + used.mode().id() + " (its page server waits for"
                + " pages not yet here) instead of " + asked.mode().id());
        return used;
    }

    /** The strategy for a restoring mode. */
    static RestoreStrategy of(Mode mode) {
        return switch (mode) {
            case VANILLA -> VANILLA;
            case CACHED -> CACHED;
            case REAP -> REAP;
            case REAP_CACHE -> REAP_CACHE;
            case FAASNAP -> FAASNAP;
            case FAASNAP_SPARSE -> FAASNAP_SPARSE;
            case UFFD -> UFFD;
            case THAW -> THAW;
            case COLD, WARM -> throw new IllegalArgumentException(mode.id() + " is not a restore strategy");
        };
    }

    /** Vanilla: map the memory file and let the guest fault its pages in on demand. */
    record Plain(Mode mode) implements RestoreStrategy {
        @Override
        public Attempt begin(Deployed d, Timing.Clock clock) {
            Path memory = d.snapshot().memoryFile();
            return () -> memory;
        }
    }

    /** Cached: vanilla with every snapshot file already in the page cache (the upper bound). */
    final class Cached implements RestoreStrategy {
        @Override
        public Mode mode() {
            return Mode.CACHED;
        }

        @Override
        public void prepare(Deployed d, Supplier<List<Path>> snapshotFiles) {
            for (Path f : snapshotFiles.get()) {
                try {
                    if (PageCache.residentCount(f) < (Files.size(f) + 4095) / 4096) PageCache.touchSequential(f);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot load " + f + " into the page cache", e);
                }
            }
        }

        @Override
        public Attempt begin(Deployed d, Timing.Clock clock) {
            return VANILLA.begin(d, clock);
        }
    }

    /** A strategy that needs the snapshot's current working-set record. */
    abstract class Recorded implements RestoreStrategy {
        private final Mode mode;

        Recorded(Mode mode) {
            this.mode = mode;
        }

        @Override
        public Mode mode() {
            return mode;
        }

        @Override
        public boolean usable(Deployed d) {
            return d.plan() != null;
        }
    }

    /**
     * thaw's earlier REAP ({@code reap-cache}): read the whole recorded working set, in file order,
     * into the page cache before the guest resumes; the VMM's file mapping finds it there.
     */
    final class Reap extends Recorded {
        Reap() {
            super(Mode.REAP_CACHE);
        }

        @Override
        public Attempt begin(Deployed d, Timing.Clock clock) {
            Path memory = d.snapshot().memoryFile();
            return new Attempt() {
                @Override
                public Path memoryFile() {
                    return memory;
                }

                @Override
                public void beforeResume(Guest guest, Timing.Clock c) {
                    try {
                        Prefetcher.load(memory, d.plan().reapRuns());
                    } catch (IOException e) {
                        throw new UncheckedIOException("prefetching the working set of " + d.name(), e);
                    }
                    c.phase(Phase.PREFETCH);
                }
            };
        }
    }

    /**
     * thaw's earlier FaaSnap ({@code faasnap-sparse}): restore from the sparse copy (zero pages are
     * holes) while a thread prefetches the loading set in group order, beside the VMM start and
     * the guest's run. Nothing waits for it. ({@code faasnap} itself maps per region: {@link FaasnapRegions}.)
     */
    final class FaasnapSparse extends Recorded {
        FaasnapSparse() {
            super(Mode.FAASNAP_SPARSE);
        }

        @Override
        public boolean usable(Deployed d) {
            return super.usable(d) && d.snapshot().has(Snapshot.SPARSE_MEMORY);
        }

        @Override
        public Attempt begin(Deployed d, Timing.Clock clock) {
            Path memory = d.snapshot().sparseMemoryFile();
            long start = clock.now();
            return new PrefetchingAttempt(memory, start, Prefetcher.start(memory, d.plan().faasnapRuns()));
        }
    }

    /**
     * A FaaSnap restore's attempt: the memory file mapped private while {@code prefetch} (started
     * at {@code start} on the clock) reads the loading set beside it; the prefetch is reported as
     * concurrent when it ended before the reply, and is the attempt's background work.
     */
    class PrefetchingAttempt implements Attempt {
        private final Path memory;
        private final long start;
        private final CompletableFuture<Prefetcher.Result> prefetch;

        PrefetchingAttempt(Path memory, long start, CompletableFuture<Prefetcher.Result> prefetch) {
            this.memory = memory;
            this.start = start;
            this.prefetch = prefetch;
        }

        @Override
        public Path memoryFile() {
            return memory;
        }

        @Override
        public void afterReply(Timing.Clock c) {
            if (prefetch.isDone() && !prefetch.isCompletedExceptionally()) {
                Prefetcher.Result r = prefetch.join();
                c.concurrentPrefetch(start, start + (long) (r.millis() * 1e6));
            }
        }

        @Override
        public CompletableFuture<?> background() {
            return prefetch;
        }
    }
}
