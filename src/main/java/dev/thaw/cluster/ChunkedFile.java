package dev.thaw.cluster;

import dev.thaw.memory.FetchProgress;
import dev.thaw.snapshot.Checksums;
import dev.thaw.snapshot.Manifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.BitSet;
import java.util.List;

/**
 * Fetches one snapshot file whose manifest entry has per-chunk checksums, chunk by chunk, each
 * chunk checked <em>before</em> its bytes are written or its pages marked present: a restore
 * reading the file while it arrives (through {@link FetchProgress}) only ever sees verified bytes.
 *
 * <p>Order: the chunks holding the planned pieces first (the loading set, in first-touch order),
 * then the rest in file order; consecutive missing chunks go in one request of up to
 * {@link SnapshotFetcher#PIECE}, or {@link #WATCHED_PIECE} while restores may read the file (a
 * fault's chunk is sent for between requests, so the request in flight bounds its wait). Before every request, a chunk a reader is waiting for
 * ({@link FetchProgress#nextDemanded}) is fetched first, alone: one round trip for the fault. A
 * chunk that fails its checksum is fetched again on its own, up to {@link SnapshotFetcher#ATTEMPTS}
 * times (each counted as a refetch), then the fetch fails naming the file and chunk.
 */
final class ChunkedFile {
    private static final int PAGE = 4096;
    /** Request size while a restore may be reading the file: a demanded chunk waits behind at most this much. */
    static final int WATCHED_PIECE = 2 << 20;

    private final SnapshotFetcher.Source source;
    private final String function;
    private final Manifest.FileEntry f;
    private final FileChannel ch;
    private final FetchProgress progress;
    private final int chunk;
    private final int chunks;
    private final BitSet done;
    private long transferred;
    private int refetches;

    ChunkedFile(SnapshotFetcher.Source source, String function, Manifest.FileEntry f, FileChannel ch, FetchProgress progress) {
        this.source = source;
        this.function = function;
        this.f = f;
        this.ch = ch;
        this.progress = progress;
        this.chunk = f.chunks().size();
        this.chunks = f.chunks().crc32c().size();
        this.done = new BitSet(chunks);
    }

    long transferred() {
        return transferred;
    }

    int refetches() {
        return refetches;
    }

    /** Fetches the chunks under {@code first} (offset, length) in that order, runs {@code firstDone}, then the rest. */
    void fetch(List<long[]> first, Runnable firstDone) throws IOException {
        for (long[] piece : first) {
            range((int) (piece[0] / chunk), (int) Math.min(chunks, (piece[0] + piece[1] + chunk - 1) / chunk));
        }
        if (!first.isEmpty()) firstDone.run();
        range(0, chunks);
        if (ch.size() < f.size()) ch.write(ByteBuffer.wrap(new byte[1]), f.size() - 1); // trailing zeros stay a hole
    }

    /** Chunks [from, to) not yet here, in requests of at most PIECE, each preceded by what readers wait for. */
    private void range(int from, int to) throws IOException {
        // A fault waits at most for the request in flight: with readers possible, requests stay short.
        int perRequest = Math.max(1, (progress != null ? WATCHED_PIECE : SnapshotFetcher.PIECE) / chunk);
        for (int c = from; c < to; ) {
            demanded();
            if (done.get(c)) { c++; continue; }
            int end = c;
            while (end < to && end - c < perRequest && !done.get(end)) end++;
            get(c, end);
            c = end;
        }
    }

    /** Fetches the chunks holding demanded pages, one request each, until no reader waits. */
    private void demanded() throws IOException {
        if (progress == null) return;
        for (long page; (page = progress.nextDemanded()) >= 0; ) {
            int c = (int) Math.min(chunks - 1, page * PAGE / chunk);
            if (done.get(c)) progress.markPresent(page * PAGE, PAGE); // here already (or past the end): wake the reader
            else get(c, c + 1);
        }
    }

    /** One request for chunks [from, to); each checked, a bad one fetched again alone. */
    private void get(int from, int to) throws IOException {
        long offset = (long) from * chunk;
        int length = (int) (Math.min(f.size(), (long) to * chunk) - offset);
        byte[] data = read(offset, length);
        for (int c = from; c < to; c++) {
            int at = (c - from) * chunk;
            int n = (int) Math.min(chunk, f.size() - (long) c * chunk);
            if (!Checksums.crc32c(data, at, n).equals(f.chunks().crc32c().get(c))) {
                accept(c, refetch(c), 0, n);
            } else {
                accept(c, data, at, n);
            }
        }
    }

    private byte[] refetch(int c) throws IOException {
        long offset = (long) c * chunk;
        int n = (int) Math.min(chunk, f.size() - offset);
        for (int attempt = 2; ; attempt++) {
            refetches++;
            SnapshotFetcher.LOG.log(System.Logger.Level.WARNING, "fetched chunk " + c + " of " + function + "/" + f.name()
                    + " fails its checksum; fetching it again (attempt " + attempt + " of " + SnapshotFetcher.ATTEMPTS + ")");
            byte[] again = read(offset, n);
            if (Checksums.crc32c(again, 0, n).equals(f.chunks().crc32c().get(c))) return again;
            if (attempt == SnapshotFetcher.ATTEMPTS) {
                throw new IOException("chunk " + c + " (bytes " + offset + "+" + n + ") of snapshot file " + f.name() + " of " + function
                        + " failed its checksum " + SnapshotFetcher.ATTEMPTS + " times in a row");
            }
        }
    }

    private byte[] read(long offset, int length) throws IOException {
        byte[] data = source.read(function, f.name(), offset, length);
        if (data.length != length) {
            throw new IOException(f.name() + " of " + function + ": asked for " + length + " bytes at " + offset + ", got " + data.length);
        }
        transferred += length;
        return data;
    }

    /** Writes a verified chunk (zero pages left as holes) and only then tells readers it is here. */
    private void accept(int c, byte[] data, int at, int n) throws IOException {
        long offset = (long) c * chunk;
        SparseFiles.write(ch, data, at, n, offset);
        done.set(c);
        if (progress != null) progress.markPresent(offset, n);
    }
}
