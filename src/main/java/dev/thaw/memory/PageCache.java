package dev.thaw.memory;

import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

import static dev.thaw.sys.Native.O_CLOEXEC;
import static dev.thaw.sys.Native.O_RDONLY;
import static dev.thaw.sys.Native.PAGE_SIZE;

/**
 * Control and observation of the host page cache for one file: drop it (cold-cache runs), see
 * which pages are resident, and bring pages in ahead of use (prefetchers).
 *
 * <p>Design: a cold-cache run needs the file's pages gone from the page cache without touching
 * the rest of the machine, so {@link #drop} is {@code fsync} (dirty pages are never evicted) plus
 * {@code posix_fadvise(DONTNEED)} over the file; unlike {@code drop_caches} it is per file and
 * needs no privileges. It cannot evict pages that a process still maps (a running VMM) or that
 * are locked, so drop files only when no VM uses them. Residency is {@code mincore} over a
 * read-only shared mapping of the file: one system call, one byte per page, and no page is read or
 * faulted in by asking (a 256 MiB file costs a 64 KiB vector). Prefetch is {@code readahead(2)},
 * which queues the reads and returns; it is issued in 2 MiB chunks because the kernel silently
 * trims one call to the device's readahead window. {@link #touchSequential} instead reads the
 * range synchronously with large buffered {@code pread}s, for callers that must know the pages are
 * resident when it returns.
 */
public final class PageCache {
    /** One readahead(2) call: small enough to stay under any device's readahead window cap, large enough to be cheap. */
    private static final long PREFETCH_CHUNK = 2L << 20;
    /** Buffer for synchronous reads: big sequential reads, bounded memory. */
    private static final int TOUCH_BUFFER = 1 << 20;

    private PageCache() {}

    /** Writes back and evicts every cached page of {@code file}, so the next read comes from disk. */
    public static void drop(Path file) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC)) {
            Native.fsync(fd);
            Native.fadvise(fd, 0, 0, Native.POSIX_FADV_DONTNEED);
        }
    }

    /** Bit i is set when page i (bytes [i×4096, (i+1)×4096)) of {@code file} is in the page cache. */
    public static BitSet residentPages(Path file) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC); Arena arena = Arena.ofConfined()) {
            long size = Native.fstat(fd).size();
            if (size == 0) {
                return new BitSet(); // mmap rejects length 0
            }
            MemorySegment mapping = Native.mmap(arena, fd, 0, size, Native.PROT_READ, Native.MAP_SHARED);
            return Native.mincore(mapping);
        }
    }

    /** How many pages of {@code file} are in the page cache. */
    public static long residentCount(Path file) throws IOException {
        return residentPages(file).cardinality();
    }

    /**
     * Queues reads of [offset, offset+length) into the page cache and returns without waiting for
     * them to complete. Length is clipped to the file by the kernel.
     */
    public static void prefetch(Path file, long offset, long length) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC)) {
            prefetch(fd, offset, length);
        }
    }

    /** {@link #prefetch(Path, long, long)} for each run of pages, in list order, with one open file. */
    public static void prefetch(Path file, List<PageRun> runs) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC)) {
            for (PageRun run : runs) {
                prefetch(fd, run.offset(), run.length());
            }
        }
    }

    /** Queues [offset, offset+length) of an open file without waiting (the chunked readahead(2) above). */
    static void prefetch(Native.Fd fd, long offset, long length) throws NativeException {
        for (long at = offset, end = offset + length; at < end; at += PREFETCH_CHUNK) {
            Native.readahead(fd, at, Math.min(PREFETCH_CHUNK, end - at));
        }
    }

    /**
     * Reads [offset, offset+length) of {@code file} through the page cache and discards the data,
     * so the range is resident when this returns (the kernel's own readahead may add more).
     * Returns the bytes read, which is less than {@code length} only at end of file.
     */
    public static long touchSequential(Path file, long offset, long length) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC); Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(TOUCH_BUFFER, PAGE_SIZE);
            return touch(fd, buffer, offset, length);
        }
    }

    /** {@link #touchSequential(Path, long, long)} over the whole file. */
    public static long touchSequential(Path file) throws IOException {
        return touchSequential(file, 0, Long.MAX_VALUE);
    }

    /** {@link #touchSequential(Path, long, long)} for each run of pages, in list order. */
    public static long touchSequential(Path file, List<PageRun> runs) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC); Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(TOUCH_BUFFER, PAGE_SIZE);
            long total = 0;
            for (PageRun run : runs) {
                total += touch(fd, buffer, run.offset(), run.length());
            }
            return total;
        }
    }

    private static long touch(Native.Fd fd, MemorySegment buffer, long offset, long length) throws NativeException {
        long done = 0;
        while (done < length) {
            long want = Math.min(buffer.byteSize(), length - done);
            long n = Native.pread(fd, buffer.asSlice(0, want), offset + done);
            if (n == 0) {
                break; // end of file
            }
            done += n;
        }
        return done;
    }
}
