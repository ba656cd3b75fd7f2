package dev.thaw.memory;

import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;
import dev.thaw.sys.Userfaultfd;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The page-level steps the {@link PageServer} and its installers share: whether a page read
 * from the memory file is all zeros (then {@code UFFDIO_ZEROPAGE} maps the shared zero page
 * instead of a copy), and a {@code UFFDIO_COPY} of a run that steps over pages already present
 * ({@code EEXIST}: a fault or another installer got there first) and retries {@code EAGAIN}.
 */
final class UffdCopy {
    private static final int PAGE = Native.PAGE_SIZE;

    private UffdCopy() {}

    static boolean isZero(MemorySegment page) {
        for (long i = 0; i < PAGE; i += 8) {
            if (page.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) return false;
        }
        return true;
    }

    /** UFFDIO_COPY of a run, stepping over pages already present; returns the pages copied. */
    static long copyRun(Native.Fd u, MemorySegment scratch, long dst, MemorySegment src, long len, long mode)
            throws IOException {
        long done = 0, pages = 0;
        for (int retries = 0; done < len; ) {
            try {
                Userfaultfd.copy(u, scratch, dst + done, src.asSlice(done), len - done, mode);
                return pages + (len - done) / PAGE;
            } catch (NativeException e) {
                if (e.errno() != Userfaultfd.EEXIST && (e.errno() != Userfaultfd.EAGAIN || ++retries > 100)) throw e;
                long copied = Math.max(0, scratch.get(java.lang.foreign.ValueLayout.JAVA_LONG, 32));
                pages += copied / PAGE;
                done += copied;
                if (e.errno() == Userfaultfd.EEXIST) done += PAGE; // that page is there already
            }
        }
        return pages;
    }
}
