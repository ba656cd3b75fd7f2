package dev.thaw.memory;

import dev.thaw.sys.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Brings recorded pages of a snapshot memory file into the host page cache, where the VMM's
 * private mapping finds them without a disk read.
 *
 * <p>The prefetcher lives outside the VMM because the page cache is shared: whatever this
 * process reads, QEMU's faults then hit (FaaSnap's observation). The descriptor is advised
 * {@code POSIX_FADV_RANDOM}, so the kernel reads exactly the runs asked for: with an 8 MiB
 * readahead window every run would otherwise drag in megabytes nobody asked for. The reads are
 * issued with {@code readahead(2)} in the given order, up to {@value #WINDOW_BYTES} bytes ahead of
 * a buffered {@code pread} that waits for each run in turn: {@code readahead} sends requests of up
 * to the device's I/O size whatever {@code read_ahead_kb} is, while a plain {@code pread} on a
 * random-advised descriptor with {@code read_ahead_kb} 0 reads one page per request (measured:
 * 25 MiB took 416 ms that way). The pread buffer is scratch; only the page-cache side effect
 * matters.
 */
public final class Prefetcher {
    private static final int BUFFER = 1 << 20;
    /** How far readahead(2) submissions run ahead of the waiting pread. */
    private static final long WINDOW_BYTES = 16L << 20;

    /** What a prefetch did. */
    public record Result(long pages, long bytes, double millis) {}

    private Prefetcher() {}

    /** Reads the runs in order and returns when they are all resident (REAP: before the VM resumes). */
    public static Result load(Path file, List<PageRun> runs) throws IOException {
        long t0 = System.nanoTime();
        long bytes = 0, pages = 0, submitted = 0;
        int next = 0; // first run not yet handed to readahead(2)
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY | Native.O_CLOEXEC); Arena arena = Arena.ofConfined()) {
            Native.fadvise(fd, 0, 0, Native.POSIX_FADV_RANDOM);
            MemorySegment buf = arena.allocate(BUFFER, Native.PAGE_SIZE);
            for (PageRun run : runs) {
                while (next < runs.size() && submitted - bytes < WINDOW_BYTES) {
                    PageRun ahead = runs.get(next++);
                    PageCache.prefetch(fd, ahead.offset(), ahead.length());
                    submitted += ahead.length();
                }
                pages += run.count();
                long off = run.offset(), left = run.length();
                while (left > 0) {
                    long n = Native.pread(fd, buf.asSlice(0, Math.min(BUFFER, left)), off);
                    if (n <= 0) break;
                    off += n;
                    left -= n;
                }
                bytes += run.length();
            }
        }
        return new Result(pages, bytes, (System.nanoTime() - t0) / 1e6);
    }

    /** Starts {@link #load} on its own thread and returns at once (FaaSnap: concurrent with the restore). */
    public static CompletableFuture<Result> start(Path file, List<PageRun> runs) {
        CompletableFuture<Result> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("prefetch").start(() -> {
            try {
                f.complete(load(file, runs));
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /**
     * Writes a copy of {@code source} in which every zero page is a hole (never written), so the
     * copy reads back identically while its zero pages cost no disk I/O. Copying skips the zero
     * pages instead of punching them afterwards: one pass, no per-run fallocate.
     */
    public static void writeSparseCopy(Path source, Path target, java.util.BitSet zeroPages) throws IOException {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(target.toFile(), "rw")) {
            f.setLength(0);
            f.setLength(java.nio.file.Files.size(source)); // all holes until written
        }
        try (Native.Fd in = Native.open(source, Native.O_RDONLY | Native.O_CLOEXEC);
             Native.Fd out = Native.open(target, Native.O_WRONLY | Native.O_CLOEXEC);
             Arena arena = Arena.ofConfined()) {
            long size = Native.fstat(in).size();
            long pages = Native.pages(size);
            java.util.BitSet data = new java.util.BitSet();
            data.set(0, (int) pages);
            data.andNot(zeroPages);
            MemorySegment buf = arena.allocate(BUFFER, Native.PAGE_SIZE);
            for (PageRun run : Runs.of(data)) {
                long off = run.offset(), left = Math.min(run.length(), size - run.offset());
                while (left > 0) {
                    long n = Native.readFully(in, buf.asSlice(0, Math.min(BUFFER, left)), off);
                    if (n <= 0) break;
                    Native.pwrite(out, buf.asSlice(0, n), off);
                    off += n;
                    left -= n;
                }
            }
            Native.fsync(out);
        }
    }
}
