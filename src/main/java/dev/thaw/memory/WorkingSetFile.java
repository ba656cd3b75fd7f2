package dev.thaw.memory;

import dev.thaw.sys.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

/**
 * REAP's working-set file ({@code ws.pages}): the recorded pages' contents stored contiguously,
 * in ascending page order, so a restore reads the whole working set in one sequential pass
 * instead of seeking through the memory file. The page list itself is not stored here: it is the
 * record's ({@code ws.json}) pages, in the same order, so the two cannot disagree.
 */
public final class WorkingSetFile {
    private static final int CHUNK = 4 << 20;

    private WorkingSetFile() {}

    /** Copies the pages of {@code runs} from {@code memory} into {@code target}, back to back, and fsyncs it. */
    public static void write(Path memory, Path target, List<PageRun> runs) throws IOException {
        try (Native.Fd in = Native.open(memory, Native.O_RDONLY | Native.O_CLOEXEC);
             Native.Fd out = Native.open(target, Native.O_WRONLY | Native.O_CREAT | Native.O_TRUNC | Native.O_CLOEXEC, 0644);
             Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(CHUNK, Native.PAGE_SIZE);
            long at = 0;
            for (PageRun run : runs) {
                for (long done = 0; done < run.length(); ) {
                    long n = Math.min(CHUNK, run.length() - done);
                    long got = Native.readFully(in, buf.asSlice(0, n), run.offset() + done);
                    if (got != n) throw new IOException("short read of " + memory + " at " + (run.offset() + done));
                    Native.pwrite(out, buf.asSlice(0, n), at);
                    at += n;
                    done += n;
                }
            }
            Native.fsync(out);
        }
    }

    /**
     * Reads the whole file in one pass into {@code arena}: with O_DIRECT (REAP's read, which
     * leaves the page cache alone) where the file system allows it, buffered otherwise.
     *
     * <p>The buffer is a fresh anonymous mapping, not {@code arena.allocate}: the latter zero-fills
     * from user space, one page fault per page, and on this machine (a guest of a PVM hypervisor)
     * those faults cost ~13 µs each: 250 ms for mmap's 71 MiB working set, five times the read.
     * Left untouched, the mapping's pages are allocated by the kernel as the read fills them.
     */
    public static MemorySegment read(Path file, long bytes, Arena arena) throws IOException {
        MemorySegment buf = Native.mmapAnonymous(arena, Math.max(bytes, Native.PAGE_SIZE),
                Native.PROT_READ | Native.PROT_WRITE).asSlice(0, bytes);
        try (Native.Fd fd = openDirect(file)) {
            long got = Native.readFully(fd, buf, 0);
            if (got != bytes) throw new IOException(file + " holds " + got + " bytes; the record says " + bytes);
        }
        return buf;
    }

    private static Native.Fd openDirect(Path file) throws IOException {
        try {
            return Native.open(file, Native.O_RDONLY | Native.O_DIRECT | Native.O_CLOEXEC);
        } catch (IOException e) {
            return Native.open(file, Native.O_RDONLY | Native.O_CLOEXEC); // e.g. tmpfs: no O_DIRECT
        }
    }
}
