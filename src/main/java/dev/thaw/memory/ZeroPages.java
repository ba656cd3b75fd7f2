package dev.thaw.memory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

import static dev.thaw.memory.Native.O_CLOEXEC;
import static dev.thaw.memory.Native.O_RDONLY;
import static dev.thaw.memory.Native.O_WRONLY;
import static dev.thaw.memory.Native.PAGE_SIZE;

/**
 * Finds the all-zero pages of a memory file and turns them into holes, so a restore reads them
 * as zeros without any disk I/O (FaaSnap's zero-page elision).
 *
 * <p>Design: {@link #scan} walks only the file's data extents ({@code SEEK_DATA}/{@code
 * SEEK_HOLE}): holes are zero by definition and are never read, so re-scanning a punched file is
 * nearly free. Data is read with 4 MiB {@code pread}s into one native buffer (large sequential
 * reads are what a cold disk does best) and each page is compared against a zero page with
 * {@link MemorySegment#mismatch}, which the JIT vectorises: a cached 256 MiB file scans in tens
 * of milliseconds, so the cost is the read itself. The scan goes through the page cache (callers
 * drop it afterwards for cold runs). {@link #punchHoles} merges the zero pages into runs and
 * issues one {@code fallocate(PUNCH_HOLE | KEEP_SIZE)} per run: the size stays, the blocks are
 * freed, and the page cache of the range is discarded by the kernel. A partial last page counts as
 * zero when its bytes up to end of file are zero, since a mapping reads zeros past the end.
 */
public final class ZeroPages {
    private static final int CHUNK = 4 << 20;

    private ZeroPages() {}

    /** Bit i is set when page i of {@code file} is all zero bytes (holes included). */
    public static BitSet scan(Path file) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC); Arena arena = Arena.ofConfined()) {
            long size = Native.fstat(fd).size();
            int pages = pageIndex(Native.pages(size));
            BitSet zero = new BitSet(pages);
            zero.set(0, pages); // every page is zero until a non-zero byte is seen
            MemorySegment buffer = arena.allocate(CHUNK, PAGE_SIZE);
            MemorySegment zeroPage = arena.allocate(PAGE_SIZE); // Arena.allocate zero-fills
            long position = 0;
            while (position < size) {
                long data = Native.seekData(fd, position);
                if (data < 0 || data >= size) {
                    break; // the rest is a hole
                }
                long hole = Native.seekHole(fd, data);
                long end = hole < 0 ? size : Math.min(hole, size);
                long from = data - data % PAGE_SIZE;
                long to = Math.min(Native.pages(end) * PAGE_SIZE, size);
                scanRange(fd, buffer, zeroPage, from, to, zero);
                position = Math.max(to, position + 1);
            }
            return zero;
        }
    }

    private static void scanRange(Native.Fd fd, MemorySegment buffer, MemorySegment zeroPage,
                                  long from, long to, BitSet zero) throws NativeException {
        for (long at = from; at < to; at += CHUNK) {
            long n = Native.readFully(fd, buffer.asSlice(0, Math.min(CHUNK, to - at)), at);
            for (long inChunk = 0; inChunk < n; inChunk += PAGE_SIZE) {
                long length = Math.min(PAGE_SIZE, n - inChunk);
                if (MemorySegment.mismatch(buffer, inChunk, inChunk + length, zeroPage, 0, length) != -1) {
                    zero.clear(pageIndex((at + inChunk) / PAGE_SIZE));
                }
            }
            if (n < Math.min(CHUNK, to - at)) {
                return; // the file shrank under us; what is left is past its end
            }
        }
    }

    /**
     * Punches a hole over every run of {@code zeroPages} in {@code file}, keeping its size.
     * Returns the runs punched. Fails with EOPNOTSUPP on file systems without hole punching.
     */
    public static List<PageRun> punchHoles(Path file, BitSet zeroPages) throws IOException {
        List<PageRun> runs = Runs.of(zeroPages);
        try (Native.Fd fd = Native.open(file, O_WRONLY | O_CLOEXEC)) {
            for (PageRun run : runs) {
                Native.fallocate(fd, Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE,
                        run.offset(), run.length());
            }
        }
        return runs;
    }

    /** {@link #scan} then {@link #punchHoles}: returns the zero pages, which are holes afterwards. */
    public static BitSet scanAndPunch(Path file) throws IOException {
        BitSet zero = scan(file);
        punchHoles(file, zero);
        return zero;
    }

    /**
     * Bit i is set when page i of {@code file} holds data on disk (is not entirely in a hole),
     * per {@code SEEK_DATA}/{@code SEEK_HOLE}.
     */
    public static BitSet allocatedPages(Path file) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC)) {
            long size = Native.fstat(fd).size();
            BitSet allocated = new BitSet();
            long position = 0;
            while (position < size) {
                long data = Native.seekData(fd, position);
                if (data < 0 || data >= size) {
                    break;
                }
                long hole = Native.seekHole(fd, data);
                long end = hole < 0 ? size : Math.min(hole, size);
                allocated.set(pageIndex(data / PAGE_SIZE), pageIndex(Native.pages(end)));
                position = end;
            }
            return allocated;
        }
    }

    /** Bytes allocated to {@code file} on disk (st_blocks × 512), which punching holes lowers. */
    public static long allocatedBytes(Path file) throws IOException {
        try (Native.Fd fd = Native.open(file, O_RDONLY | O_CLOEXEC)) {
            return Native.fstat(fd).allocatedBytes();
        }
    }

    private static int pageIndex(long page) {
        if (page > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("file too large for a page bit set: " + page + " pages");
        }
        return (int) page;
    }
}
