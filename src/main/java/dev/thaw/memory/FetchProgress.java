package dev.thaw.memory;

import java.io.IOException;
import java.time.Duration;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.SequencedSet;

/**
 * Which pages of a memory file being fetched have been written, shared by the fetch (which marks
 * pages present) and a page server restoring from the file at the same time (which waits for the
 * pages its faults need). A waiter's pages are also recorded as demanded, in the order asked, so
 * the fetch can bring them before whatever it planned next ({@link #nextDemanded}).
 *
 * <p>Monitor-based on purpose: the waits are rare (only faults outside what has arrived), last
 * one network round trip, and happen on the page server's own platform thread.
 *
 * <p>Integrity is the fetch's side: with per-chunk checksums in the manifest it marks a chunk's
 * pages present only after the chunk passed its checksum ({@code cluster.ChunkedFile}), so a
 * reader never sees unchecked bytes. (Without them a reader could only be failed afterwards,
 * {@link #fail}; the node does not install such a snapshot early.)
 */
public final class FetchProgress implements PageAvailability {
    private static final int PAGE = 4096;

    private final long pages;
    private final Duration timeout;
    private final BitSet present;
    private final SequencedSet<Long> demanded = new LinkedHashSet<>();
    private long count;
    private IOException failure;

    /** @param size the file's size in bytes; @param timeout how long a fault may wait for its page */
    public FetchProgress(long size, Duration timeout) {
        this.pages = (size + PAGE - 1) / PAGE;
        if (pages > Integer.MAX_VALUE) throw new IllegalArgumentException("file too large: " + size + " bytes");
        this.timeout = timeout;
        this.present = new BitSet((int) pages);
    }

    /** Marks bytes {@code [offset, offset + length)} written (whole pages; a partial last page of the file counts). */
    public synchronized void markPresent(long offset, long length) {
        int from = (int) (offset / PAGE), to = (int) Math.min(pages, (offset + length + PAGE - 1) / PAGE);
        for (int p = present.nextClearBit(from); p < to; p = present.nextClearBit(p + 1)) {
            present.set(p);
            count++;
            demanded.remove((long) p);
        }
        notifyAll();
    }

    /** Fails every waiter, now and later: the fetch will not complete (or its bytes failed their checksum). */
    public synchronized void fail(IOException cause) {
        failure = cause;
        notifyAll();
    }

    @Override
    public synchronized String failure() {
        return failure == null ? null : "the snapshot fetch failed: " + failure.getMessage();
    }

    public synchronized boolean complete() {
        return count == pages;
    }

    public synchronized long presentPages() {
        return count;
    }

    /** Records the missing pages of the range as demanded, without waiting: the fetch brings them next. */
    public synchronized void demand(long offset, long length) {
        int from = (int) (offset / PAGE), to = (int) Math.min(pages, (offset + length + PAGE - 1) / PAGE);
        for (int p = present.nextClearBit(from); p < to; p = present.nextClearBit(p + 1)) demanded.add((long) p);
        notifyAll();
    }

    /** The earliest demanded page not yet present, or -1: the fetch asks before each piece it sends for. */
    public synchronized long nextDemanded() {
        return demanded.isEmpty() ? -1 : demanded.getFirst();
    }

    @Override
    public synchronized void await(long offset, long length) throws IOException {
        if (failure != null) throw new IOException("the snapshot fetch failed: " + failure.getMessage(), failure);
        int from = (int) (offset / PAGE), to = (int) Math.min(pages, (offset + length + PAGE - 1) / PAGE);
        if (present.nextClearBit(from) >= to) return;
        demand(offset, length);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (present.nextClearBit(from) < to) {
                if (failure != null) throw new IOException("the snapshot fetch failed: " + failure.getMessage(), failure);
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new IOException("page " + from + " of the memory file did not arrive within " + timeout);
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for page " + from + " of the memory file", e);
        }
    }
}
