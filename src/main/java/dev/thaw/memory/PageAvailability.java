package dev.thaw.memory;

import java.io.IOException;

/**
 * Whether the bytes of a memory file a page server is about to read have arrived. A snapshot on
 * local disk is always complete ({@link #COMPLETE}, a no-op); one still being fetched from a
 * cluster peer ({@link FetchProgress}) makes a fault on a page not yet written wait for it, and
 * asks the fetch to bring that page next.
 */
public interface PageAvailability {
    PageAvailability COMPLETE = (offset, length) -> {};

    /**
     * Returns once bytes {@code [offset, offset + length)} of the file are present; throws if they
     * never will be (the fetch failed or took too long), which fails the VM like a read error.
     */
    void await(long offset, long length) throws IOException;

    /** Why the bytes will never all arrive (the fetch failed), or null. */
    default String failure() {
        return null;
    }
}
