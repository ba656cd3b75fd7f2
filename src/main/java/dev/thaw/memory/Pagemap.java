package dev.thaw.memory;

import dev.thaw.sys.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.BitSet;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Which pages of a virtual address range are backed by memory, from {@code /proc/PID/pagemap}:
 * the exact set of guest pages a VM touched, without the inflation that page-cache residency
 * (mincore) suffers from kernel readahead.
 *
 * <p>Design: pagemap holds one 64-bit entry per virtual page, indexed by page number, so a range
 * is one positional read of 8 bytes per page (512 KiB for a 256 MiB guest), done in 1 MiB chunks.
 * Bit 63 means present in RAM, bit 62 swapped out; both count as touched here. Only those bits
 * are used, so no privilege is needed for one's own process; another process's pagemap needs
 * ptrace rights (root). Caveat for file mappings: a read fault maps neighbouring pages that are
 * already in the page cache ("fault-around", up to 64 KiB), so read-only accesses to a cached file
 * can show a few more present pages than were touched; write faults on private mappings and
 * anonymous memory are exact.
 */
public final class Pagemap {
    private static final long PRESENT = 1L << 63;
    private static final long SWAPPED = 1L << 62;
    private static final int ENTRIES_PER_READ = 128 * 1024;

    private Pagemap() {}

    /**
     * Bit i is set when page i of [start, start+length) in process {@code pid} is present in RAM
     * or swapped out. {@code start} must be page aligned; a partial last page counts.
     */
    public static BitSet present(long pid, long start, long length) throws IOException {
        if (start % Native.PAGE_SIZE != 0 || length < 0) {
            throw new IllegalArgumentException("pagemap range must start on a page: start=0x"
                    + Long.toHexString(start) + " length=" + length);
        }
        int pages = Math.toIntExact(Native.pages(length));
        BitSet present = new BitSet(pages);
        Path pagemap = Path.of("/proc", Long.toString(pid), "pagemap");
        try (Native.Fd fd = Native.open(pagemap, Native.O_RDONLY | Native.O_CLOEXEC);
             Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate((long) ENTRIES_PER_READ * Long.BYTES, Long.BYTES);
            long firstEntry = Long.divideUnsigned(start, Native.PAGE_SIZE) * Long.BYTES;
            for (int done = 0; done < pages; ) {
                int count = Math.min(ENTRIES_PER_READ, pages - done);
                long bytes = Native.readFully(fd, buffer.asSlice(0, (long) count * Long.BYTES),
                        firstEntry + (long) done * Long.BYTES);
                if (bytes < (long) count * Long.BYTES) {
                    throw new IOException(pagemap + ": short read at page " + done + " (range beyond the address space?)");
                }
                for (int i = 0; i < count; i++) {
                    if ((buffer.getAtIndex(JAVA_LONG, i) & (PRESENT | SWAPPED)) != 0) {
                        present.set(done + i);
                    }
                }
                done += count;
            }
        }
        return present;
    }

    /** {@link #present(long, long, long)} over a whole mapping. */
    public static BitSet present(long pid, Mapping mapping) throws IOException {
        return present(pid, mapping.start(), mapping.length());
    }
}
