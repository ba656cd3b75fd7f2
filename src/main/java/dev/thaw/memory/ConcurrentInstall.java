package dev.thaw.memory;

import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;
import dev.thaw.sys.Userfaultfd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Installs a recorded working set into a running VMM's memory while the guest runs, beside the
 * {@link PageServer} that serves its faults: the memory file's long zero runs handed to the
 * kernel as anonymous memory first ({@link PageServer#makeAnonymous}: a few ioctls, and the guest
 * never faults to the server on them), then the working set's other zero pages, each run with
 * one {@code UFFDIO_ZEROPAGE} (no read at all), then the loading set in working-set-group order
 * (the order the record touched it), read with {@code pread} and installed with
 * {@code UFFDIO_COPY} in chunks of at most 64 pages, so a fault never waits behind a long copy.
 *
 * <p>A fault jumps the queue: the page server answers it on its own thread at once, whatever
 * this installer is doing; when the installer reaches that page later, the copy reports
 * {@code EEXIST} and the page is skipped. Runs on its own platform thread (FFM calls that block
 * would pin a virtual thread's carrier); a failure ends only the prefetch, never the VM.
 *
 * <p>Two sources. {@link #start} reads the loading set from the memory file, chunk by chunk, after
 * the handshake. {@link #startFromWorkingSetFile} (what the {@code thaw} mode uses) reads REAP's
 * contiguous {@code ws.pages} in one sequential pass (O_DIRECT) as soon as it starts — before
 * and while QEMU starts, since the thread is started just before the VMM — and then, the moment
 * the userfaultfd arrives, copies from that buffer with no read left on the way: the install is
 * bounded by {@code UFFDIO_COPY}, not by the disk. The buffer lives in the thread's own arena
 * and is freed when the install ends, whichever way.
 */
public final class ConcurrentInstall {
    private static final System.Logger LOG = System.getLogger(ConcurrentInstall.class.getName());
    private static final int CHUNK_PAGES = 64;

    /** What the install did: pages installed (copied or zero), and how long it took. */
    public record Result(long pages, double millis) {}

    private ConcurrentInstall() {}

    /**
     * Starts installing, once the VMM's handshake is in; the future completes when done.
     * {@code anonymousRuns} (zero runs, see {@link PageServer#makeAnonymous}) are handed to the
     * kernel first, then {@code zeroRuns} are installed as zero pages, then {@code loadingRuns}
     * read from {@code memoryFile}.
     */
    public static CompletableFuture<Result> start(PageServer server, Path memoryFile, List<PageRun> anonymousRuns,
                                                  List<PageRun> zeroRuns, List<PageRun> loadingRuns) {
        return onOwnThread(server, () -> {
            server.connected().join();
            long t0 = System.nanoTime();
            server.makeAnonymous(anonymousRuns);
            long pages = run(server, memoryFile, zeroRuns, loadingRuns);
            return new Result(pages, (System.nanoTime() - t0) / 1e6);
        });
    }

    /**
     * Starts reading {@code wsPages} (the working set's pages back to back, in the ascending order
     * of {@code fileRuns}) at once, then installs from it once the VMM's handshake is in:
     * {@code anonymousRuns} handed to the kernel first, zero runs next, then {@code loadingRuns}
     * in their order. Every loading run must lie within the working set (exact runs, no merged
     * gaps: ws.pages holds nothing else).
     */
    public static CompletableFuture<Result> startFromWorkingSetFile(PageServer server, Path wsPages, List<PageRun> fileRuns,
                                                                    List<PageRun> anonymousRuns, List<PageRun> zeroRuns,
                                                                    List<PageRun> loadingRuns) {
        return onOwnThread(server, () -> {
            try (Arena arena = Arena.ofConfined()) {
                long t0 = System.nanoTime();
                WorkingSetIndex index = new WorkingSetIndex(fileRuns);
                MemorySegment contents = WorkingSetFile.read(wsPages, index.bytes(), arena);
                long read = System.nanoTime();
                server.connected().join();
                long t1 = System.nanoTime();
                server.makeAnonymous(anonymousRuns);
                long pages = install(server, contents, index, zeroRuns, loadingRuns, arena);
                long t2 = System.nanoTime();
                LOG.log(System.Logger.Level.DEBUG, () -> String.format("install from %s: read %.1f ms, waited %.1f ms for the VMM, "
                        + "%d pages in %.1f ms", wsPages, (read - t0) / 1e6, (t1 - read) / 1e6, pages, (t2 - t1) / 1e6));
                return new Result(pages, (t2 - t1) / 1e6);
            }
        });
    }

    /**
     * Runs an install on a platform thread of its own (it blocks in FFM calls that would pin a
     * virtual thread's carrier); the future completes with its result or its failure.
     */
    private static CompletableFuture<Result> onOwnThread(PageServer server, java.util.concurrent.Callable<Result> install) {
        CompletableFuture<Result> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                done.complete(install.call());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "thaw-install-" + server.socket().getFileName());
        t.setDaemon(true);
        t.start();
        return done;
    }

    /** Where each working-set page sits in ws.pages: runs in ascending order, with their byte offsets in the file. */
    static final class WorkingSetIndex {
        private final long[] starts;
        private final long[] ends;
        private final long[] offsets;

        WorkingSetIndex(List<PageRun> fileRuns) {
            starts = new long[fileRuns.size()];
            ends = new long[fileRuns.size()];
            offsets = new long[fileRuns.size() + 1];
            for (int i = 0; i < fileRuns.size(); i++) {
                PageRun r = fileRuns.get(i);
                if (i > 0 && r.start() < ends[i - 1]) throw new IllegalArgumentException("working-set runs out of order at " + r);
                starts[i] = r.start();
                ends[i] = r.end();
                offsets[i + 1] = offsets[i] + r.length();
            }
        }

        long bytes() {
            return offsets[starts.length];
        }

        /** The byte offset of {@code pages} pages from {@code page} in ws.pages; they must be in one run. */
        long offsetOf(long page, long pages) throws IOException {
            int i = java.util.Arrays.binarySearch(starts, page);
            if (i < 0) i = -i - 2;
            if (i < 0 || page + pages > ends[i]) {
                throw new IOException("pages " + page + "+" + pages + " are not in the working-set file");
            }
            return offsets[i] + (page - starts[i]) * Native.PAGE_SIZE;
        }
    }

    private static long install(PageServer server, MemorySegment contents, WorkingSetIndex index, List<PageRun> zeroRuns,
                                List<PageRun> loadingRuns, Arena arena) throws IOException {
        Native.Fd uffd = server.uffd();
        if (uffd == null) throw new IOException("the page server has no userfaultfd");
        MemorySegment scratch = arena.allocate(64, 8);
        long installed = installZero(server, uffd, scratch, zeroRuns);
        if (installed < 0) return -installed - 1;
        for (PageRun run : loadingRuns) {
            for (long p = run.start(); p < run.end(); p += CHUNK_PAGES) {
                if (server.done().isDone()) return installed;
                long n = Math.min(CHUNK_PAGES, run.end() - p);
                long at = index.offsetOf(p, n);
                installed += server.copyInto(uffd, scratch, p * Native.PAGE_SIZE, contents.asSlice(at, n * Native.PAGE_SIZE));
            }
        }
        server.countInstalled(installed);
        return installed;
    }

    /** UFFDIO_ZEROPAGE page by page (a faulted page must not stop the rest); the count, or -(count + 1) if the server ended. */
    private static long installZero(PageServer server, Native.Fd uffd, MemorySegment scratch, List<PageRun> zeroRuns) throws IOException {
        long installed = 0;
        for (PageRun run : zeroRuns) {
            for (long p = run.start(); p < run.end(); p++) {
                if (server.done().isDone()) return -installed - 1;
                try {
                    Userfaultfd.zeroPage(uffd, scratch, server.address(p * Native.PAGE_SIZE), Native.PAGE_SIZE);
                    installed++;
                } catch (NativeException e) {
                    if (e.errno() != Userfaultfd.EEXIST && e.errno() != Userfaultfd.EAGAIN) throw e;
                }
            }
        }
        return installed;
    }

    private static long run(PageServer server, Path memoryFile, List<PageRun> zeroRuns, List<PageRun> loadingRuns)
            throws IOException {
        Native.Fd uffd = server.uffd();
        if (uffd == null) throw new IOException("the page server has no userfaultfd");
        long installed = 0;
        try (Native.Fd file = Native.open(memoryFile, Native.O_RDONLY | Native.O_CLOEXEC);
             Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(64, 8);
            MemorySegment buf = arena.allocate((long) CHUNK_PAGES * Native.PAGE_SIZE, Native.PAGE_SIZE);
            installed = installZero(server, uffd, scratch, zeroRuns);
            if (installed < 0) return -installed - 1;
            for (PageRun run : loadingRuns) {
                for (long p = run.start(); p < run.end(); p += CHUNK_PAGES) {
                    if (server.done().isDone()) return installed;
                    long n = Math.min(CHUNK_PAGES, run.end() - p) * Native.PAGE_SIZE;
                    long got = Native.readFully(file, buf.asSlice(0, n), p * Native.PAGE_SIZE);
                    if (got != n) throw new IOException("short read of " + memoryFile + " at page " + p);
                    installed += server.copyInto(uffd, scratch, p * Native.PAGE_SIZE, buf.asSlice(0, n));
                }
            }
        }
        server.countInstalled(installed);
        return installed;
    }
}
