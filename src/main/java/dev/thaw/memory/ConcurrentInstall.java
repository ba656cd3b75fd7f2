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
 * {@link PageServer} that serves its faults: the working set's zero pages first, each run with
 * one {@code UFFDIO_ZEROPAGE} (no read at all), then the loading set in working-set-group order
 * (the order the record touched it), read with {@code pread} and installed with
 * {@code UFFDIO_COPY} in chunks of at most 64 pages, so a fault never waits behind a long copy.
 *
 * <p>A fault jumps the queue: the page server answers it on its own thread at once, whatever
 * this installer is doing; when the installer reaches that page later, the copy reports
 * {@code EEXIST} and the page is skipped. Runs on its own platform thread (FFM calls that block
 * would pin a virtual thread's carrier); a failure ends only the prefetch, never the VM.
 */
public final class ConcurrentInstall {
    private static final int CHUNK_PAGES = 64;

    /** What the install did: pages installed (copied or zero), and how long it took. */
    public record Result(long pages, double millis) {}

    private ConcurrentInstall() {}

    /** Starts installing, once the VMM's handshake is in; the future completes when done. */
    public static CompletableFuture<Result> start(PageServer server, Path memoryFile, List<PageRun> zeroRuns,
                                                  List<PageRun> loadingRuns) {
        CompletableFuture<Result> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                server.connected().join();
                long t0 = System.nanoTime();
                long pages = run(server, memoryFile, zeroRuns, loadingRuns);
                done.complete(new Result(pages, (System.nanoTime() - t0) / 1e6));
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "thaw-install-" + server.socket().getFileName());
        t.setDaemon(true);
        t.start();
        return done;
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
            for (PageRun run : zeroRuns) {
                for (long p = run.start(); p < run.end(); p++) { // page by page: a faulted page must not stop the rest
                    if (server.done().isDone()) return installed;
                    try {
                        Userfaultfd.zeroPage(uffd, scratch, server.address(p * Native.PAGE_SIZE), Native.PAGE_SIZE);
                        installed++;
                    } catch (NativeException e) {
                        if (e.errno() != Userfaultfd.EEXIST && e.errno() != Userfaultfd.EAGAIN) throw e;
                    }
                }
            }
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
