package dev.thaw.cluster;

import dev.thaw.common.Json;
import dev.thaw.memory.FetchProgress;
import dev.thaw.snapshot.Checksums;
import dev.thaw.snapshot.Manifest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fetches a function's snapshot from a peer node over HTTP into a staging directory, every file
 * checked against the manifest's CRC32C.
 *
 * <p>Order: the manifest first (it says what to expect and is checked against the registry's
 * snapshot id), then the small files a restore needs at once ({@code vmstate}, {@code ws.json}),
 * and {@code ws.pages}, then {@code memory.sparse} (what a FaaSnap restore maps; its loading set,
 * named by {@code ws.json}, is fetched first, the rest of the file after it), then {@code memory}.
 * A memory file whose manifest entry has per-chunk checksums arrives chunk by verified chunk
 * ({@link ChunkedFile}), which lets a restore start on it before it is complete
 * ({@link #fetchEarly}). Files
 * arrive in pieces of at most 16 MiB ({@code GET /snapshots/{name}/files/{file}?offset&length});
 * pieces that are all zero pages are left as holes, so sparse files stay sparse. A file whose
 * checksum does not match is fetched again, up to {@link #ATTEMPTS} times, then the fetch fails
 * naming the file. The manifest itself is written last, as a deploy writes it, so a staging
 * directory without one is incomplete.
 */
public final class SnapshotFetcher {
    static final int ATTEMPTS = 3;
    static final int PIECE = 8 << 20;
    private static final int PAGE = 4096;
    static final System.Logger LOG = System.getLogger(SnapshotFetcher.class.getName());

    /** Where the bytes come from: a peer's API in production, a test double that corrupts them in tests. */
    public interface Source {
        byte[] read(String function, String file, long offset, int length) throws IOException;
    }

    /** Counts what a fetch did, for logs and the note's measurements. */
    public record Result(Manifest manifest, long bytes, int refetches, long millis, long loadingSetMillis) {}

    /**
     * The early install of a fetch (docs/cluster.md, "First restore on a fetching node"): called
     * once every file but the memory files has arrived and passed its checksum, with the
     * snapshot's {@code memory.sparse} already sized and its arrival published in
     * {@code progress}. It returns the directory the rest is fetched into (where it moved
     * {@code dir}), or null to carry on in {@code dir} without an early install. Called only for
     * a {@code memory.sparse} with per-chunk checksums, so every page marked present is verified.
     */
    public interface EarlyInstall {
        Path install(Manifest manifest, Path dir, FetchProgress progress) throws IOException;
    }

    /** How long a restore's fault may wait for a page of a file still arriving. */
    static final Duration PAGE_WAIT = Duration.ofSeconds(30);

    /**
     * In what order {@code memory.sparse} arrives: its loading set first (what a restore touches
     * first, in first-touch order), or the whole file front to back (the baseline). {@code thaw
     * serve --fetch-order}.
     */
    public enum Order {
        WS_FIRST("ws-first"), WHOLE_FILE("whole-file");

        private final String id;

        Order(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Order parse(String s) {
            for (Order o : values()) if (o.id.equals(s)) return o;
            throw new IllegalArgumentException("--fetch-order must be ws-first or whole-file, got \"" + s + "\"");
        }
    }

    /** The request header a fetching node names itself in (peers log it; the testing-only corruption keys on it). */
    public static final String FETCHER_HEADER = "X-Thaw-Fetcher";

    private final Source source;
    private final boolean workingSetFirst;

    public SnapshotFetcher(Source source) {
        this(source, Order.WS_FIRST);
    }

    public SnapshotFetcher(Source source, Order order) {
        this(source, order == Order.WS_FIRST);
    }

    /** @param workingSetFirst false fetches every file in plain file order (the baseline the note compares against) */
    public SnapshotFetcher(Source source, boolean workingSetFirst) {
        this.source = source;
        this.workingSetFirst = workingSetFirst;
    }

    /** A source reading from the node at {@code baseUrl}; {@code token} (or null) is the cluster's API token. */
    public static Source http(HttpClient client, String baseUrl, dev.thaw.common.AuthToken token) {
        return http(client, baseUrl, token, null);
    }

    /** As {@link #http(HttpClient, String, dev.thaw.common.AuthToken)}, naming the fetching node ({@code fetcher}, or null) to the peer. */
    public static Source http(HttpClient client, String baseUrl, dev.thaw.common.AuthToken token, String fetcher) {
        return (function, file, offset, length) -> {
            URI uri = URI.create(baseUrl + "/snapshots/" + function + "/files/" + file + "?offset=" + offset + "&length=" + length);
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60));
                if (token != null) b.header("Authorization", token.bearer());
                if (fetcher != null) b.header(FETCHER_HEADER, fetcher);
                HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() != 200) {
                    throw new IOException("GET " + uri + " answered " + r.statusCode() + ": " + new String(r.body()));
                }
                return r.body();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted fetching " + uri, e);
            }
        };
    }

    /**
     * Fetches the snapshot of {@code function} into {@code dir} (created), expecting
     * {@code snapshotId}; returns what it did.
     */
    public Result fetch(String function, String snapshotId, Path dir) throws IOException {
        return fetch(function, snapshotId, dir, f -> null);
    }

    /**
     * As {@link #fetch(String, String, Path)}, publishing the arrival of the files for which
     * {@code progressFor} gives a {@link FetchProgress} (null: not watched): such a file is sized
     * at once, each piece is marked present once written, and before each piece the pages a
     * reader is waiting for ({@link FetchProgress#nextDemanded}) are fetched first, in pieces of
     * {@link #DEMAND_PIECE}. A watched file that fails its checksum fails its progress (whoever
     * read it early read unchecked bytes) before it is fetched again.
     */
    public Result fetch(String function, String snapshotId, Path dir,
                        java.util.function.Function<Manifest.FileEntry, FetchProgress> progressFor) throws IOException {
        return fetch(function, snapshotId, dir, progressFor, null);
    }

    /**
     * As {@link #fetch(String, String, Path)} with an early install: when {@code memory.sparse}
     * has per-chunk checksums, {@code early} is called as soon as everything else is here, and the
     * rest arrives into the directory it returns, chunk by verified chunk, published through the
     * {@link FetchProgress} it was given. If the fetch fails after that, the progress is failed
     * (every waiting fault fails) and the exception thrown as usual.
     */
    public Result fetchEarly(String function, String snapshotId, Path dir, EarlyInstall early) throws IOException {
        return fetch(function, snapshotId, dir, f -> null, early);
    }

    private Result fetch(String function, String snapshotId, Path dir,
                         java.util.function.Function<Manifest.FileEntry, FetchProgress> progressFor, EarlyInstall early)
            throws IOException {
        long t0 = System.nanoTime();
        byte[] manifestBytes = readWhole(function, "manifest.json");
        Manifest m = Json.MAPPER.readValue(manifestBytes, Manifest.class);
        if (!m.snapshotId().equals(snapshotId)) {
            throw new IOException("the peer has snapshot " + m.snapshotId() + " of " + function + ", the registry names " + snapshotId);
        }
        Files.createDirectories(dir);
        long bytes = 0;
        int refetches = 0;
        // What a restore needs locally first (ws.pages: the thaw/reap install), then the memory files.
        List<Manifest.FileEntry> order = new ArrayList<>();
        for (String name : List.of("vmstate", "ws.json", "ws.pages")) {
            Manifest.FileEntry f = m.file(name);
            if (f != null) order.add(f);
        }
        // Then whatever else the manifest names (files later formats add), then the memory files:
        // a snapshot is complete only when every file it lists has arrived.
        for (Manifest.FileEntry f : m.files()) {
            if (!order.contains(f) && !f.name().startsWith("memory")) order.add(f);
        }
        for (String name : List.of("memory.sparse", "memory")) {
            Manifest.FileEntry f = m.file(name);
            if (f != null) order.add(f);
        }
        Manifest.FileEntry sparse = m.file("memory.sparse");
        long[] loadingSetAt = {-1};
        FetchProgress earlyProgress = null;
        try {
            for (Manifest.FileEntry f : order) {
                if (f == sparse && early != null && sparse.chunks() != null) {
                    FetchProgress p = new FetchProgress(sparse.size(), PAGE_WAIT);
                    try (FileChannel ch = FileChannel.open(dir.resolve(sparse.name()), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                        if (sparse.size() > 0) ch.write(ByteBuffer.wrap(new byte[1]), sparse.size() - 1); // a reader never reads past the end
                    }
                    Path moved = early.install(m, dir, p);
                    if (moved != null) {
                        dir = moved;
                        earlyProgress = p;
                    }
                }
                Manifest.FileEntry twin = m.file("memory.sparse");
                if (f.name().equals("memory") && twin != null && twin.size() == f.size() && twin.crc32c().equals(f.crc32c())) {
                    // memory.sparse holds the same bytes (zero pages as holes): copy it here instead of sending it twice.
                    SparseFiles.copy(dir.resolve("memory.sparse"), dir.resolve("memory"));
                    if (Checksums.crc32c(dir.resolve("memory")).equals(f.crc32c())) continue;
                }
                List<long[]> first = workingSetFirst && f.name().equals("memory.sparse") && Files.exists(dir.resolve("ws.json"))
                        ? loadingSet(dir.resolve("ws.json")) : List.of();
                FetchProgress progress = f == sparse && earlyProgress != null ? earlyProgress : progressFor.apply(f);
                Runnable firstDone = () -> loadingSetAt[0] = loadingSetAt[0] < 0 ? (System.nanoTime() - t0) / 1_000_000 : loadingSetAt[0];
                for (int attempt = 1; ; attempt++) {
                    if (f.chunks() != null) {
                        try (FileChannel ch = FileChannel.open(dir.resolve(f.name()), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                            ChunkedFile cf = new ChunkedFile(source, function, f, ch, attempt == 1 ? progress : null);
                            cf.fetch(merge(first), firstDone);
                            ch.force(true);
                            bytes += cf.transferred();
                            refetches += cf.refetches();
                        }
                    } else {
                        bytes += fetchFile(function, f, dir.resolve(f.name()), first, firstDone, attempt == 1 ? progress : null);
                    }
                    String crc = Checksums.crc32c(dir.resolve(f.name()));
                    if (crc.equals(f.crc32c())) break;
                    if (progress != null && attempt == 1) {
                        progress.fail(new IOException(f.name() + " of " + function + " failed its checksum; early readers read bad bytes"));
                    }
                    LOG.log(System.Logger.Level.WARNING, "fetched " + function + "/" + f.name() + " fails its checksum (crc32c " + crc
                            + ", manifest says " + f.crc32c() + "), attempt " + attempt + " of " + ATTEMPTS);
                    if (attempt == ATTEMPTS) {
                        throw new IOException("snapshot file " + f.name() + " of " + function + " failed its checksum "
                                + ATTEMPTS + " times in a row (crc32c " + crc + ", manifest says " + f.crc32c() + ")");
                    }
                    refetches++;
                }
            }
        } catch (IOException | RuntimeException e) {
            if (earlyProgress != null) earlyProgress.fail(new IOException("fetching " + function + " from a peer failed: "
                    + (e.getMessage() != null ? e.getMessage() : e.toString()), e));
            throw e;
        }
        Files.write(dir.resolve("manifest.json"), manifestBytes);
        return new Result(m, bytes, refetches, (System.nanoTime() - t0) / 1_000_000, loadingSetAt[0]);
    }

    /** Byte ranges of the loading set (working-set pages minus zero pages), from a {@code ws.json}, in group order. */
    static List<long[]> loadingSet(Path wsJson) {
        try {
            dev.thaw.memory.WorkingSet ws = Json.MAPPER.readValue(wsJson.toFile(), dev.thaw.memory.WorkingSet.class);
            List<long[]> runs = new ArrayList<>();
            for (var group : ws.groups()) {
                for (var run : group) runs.add(new long[]{run.start() * PAGE, run.count() * PAGE});
            }
            return runs;
        } catch (IOException | RuntimeException e) {
            return List.of(); // no usable record: the file in order is as good
        }
    }

    /** Writes the file in pieces, {@code first} ranges (offset, length) before the rest; returns bytes transferred. */
    private long fetchFile(String function, Manifest.FileEntry f, Path target, List<long[]> first, Runnable firstDone,
                           FetchProgress progress) throws IOException {
        long transferred = 0;
        long pages = (f.size() + PAGE - 1) / PAGE;
        java.util.BitSet done = new java.util.BitSet((int) pages);
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.truncate(0);
            Piece piece = (offset, length) -> {
                long n = piece(function, f, ch, offset, length);
                if (progress != null) progress.markPresent(offset, length);
                return n;
            };
            // A watched file has its full size from the start: a reader's pread of a hole not yet
            // written must read zeros only where the page really is zero, never past the end.
            if (progress != null && f.size() > 0) ch.write(ByteBuffer.wrap(new byte[1]), f.size() - 1);
            // The loading set, run by run in the order the guest first touched it (runs closer than GAP merged).
            for (long[] run : merge(first)) {
                long from = run[0] / PAGE, to = Math.min(pages, (run[0] + run[1] + PAGE - 1) / PAGE);
                transferred += range(piece, progress, f, done, from, to);
            }
            if (!first.isEmpty()) firstDone.run();
            // The rest, in file order, in pieces of at most PIECE over the pages not fetched yet.
            for (int p = done.nextClearBit(0); p < pages; p = done.nextClearBit(p)) {
                int end = Math.min(done.nextSetBit(p) < 0 ? (int) pages : done.nextSetBit(p), p + PIECE / PAGE);
                transferred += range(piece, progress, f, done, p, end);
                p = end;
            }
            // Trailing holes: the file must have the manifest's size even if its end is zeros.
            if (ch.size() < f.size()) { ch.write(ByteBuffer.wrap(new byte[1]), f.size() - 1); }
            ch.force(true);
        }
        return transferred;
    }

    /** Gap below which neighbouring loading-set runs are fetched as one piece: a request costs more than 1 MiB on a LAN. */
    static final long GAP = 1 << 20;

    /**
     * The loading set's runs (offset, length, in first-touch order) as pieces to fetch: runs sorted
     * by offset and joined across gaps under {@link #GAP} into pieces of at most {@link #PIECE},
     * then the pieces in the order of the earliest-touched run each holds. Hello's loading set is
     * about a thousand runs; one request each costs more than the bytes.
     */
    static List<long[]> merge(List<long[]> runs) {
        List<long[]> ranked = new ArrayList<>(); // offset, end, rank
        for (int i = 0; i < runs.size(); i++) ranked.add(new long[]{runs.get(i)[0], runs.get(i)[0] + runs.get(i)[1], i});
        ranked.sort(java.util.Comparator.comparingLong(r -> r[0]));
        List<long[]> pieces = new ArrayList<>();
        for (long[] r : ranked) {
            long[] last = pieces.isEmpty() ? null : pieces.getLast();
            if (last != null && r[0] - last[1] < GAP && Math.max(last[1], r[1]) - last[0] <= PIECE) {
                last[1] = Math.max(last[1], r[1]);
                last[2] = Math.min(last[2], r[2]);
            } else {
                pieces.add(r.clone());
            }
        }
        pieces.sort(java.util.Comparator.comparingLong(r -> r[2]));
        List<long[]> out = new ArrayList<>();
        for (long[] r : pieces) out.add(new long[]{r[0], r[1] - r[0]});
        return out;
    }

    /** Pages a reader's fault brings ahead of the plan: up to 64 KiB from the page it waits for. */
    static final int DEMAND_PIECE = 64 << 10;

    /** One request's bytes written into the file at {@code offset}; returns the bytes transferred. */
    private interface Piece {
        long get(long offset, int length) throws IOException;
    }

    /**
     * Fetches pages [from, to) not yet done, in pieces of at most PIECE; before each piece, the
     * pages a reader waits for (a {@code progress} demand). Returns the bytes transferred.
     */
    private long range(Piece piece, FetchProgress progress, Manifest.FileEntry f, java.util.BitSet done, long from, long to)
            throws IOException {
        long transferred = 0;
        long pages = (f.size() + PAGE - 1) / PAGE;
        for (long p = from; p < to; ) {
            for (long d; progress != null && (d = progress.nextDemanded()) >= 0; ) {
                if (d >= pages || done.get((int) d)) { progress.markPresent(d * PAGE, PAGE); continue; } // here already: wake the reader
                long e = d, b = Math.min(pages, d + DEMAND_PIECE / PAGE);
                while (e < b && !done.get((int) e)) e++;
                transferred += piece.get(d * PAGE, (int) Math.min((e - d) * PAGE, f.size() - d * PAGE));
                done.set((int) d, (int) e);
            }
            if (done.get((int) p)) { p++; continue; }
            long end = p;
            while (end < to && !done.get((int) end) && (end - p) * PAGE < PIECE) end++;
            long offset = p * PAGE;
            int length = (int) Math.min((end - p) * PAGE, f.size() - offset);
            transferred += piece.get(offset, length);
            done.set((int) p, (int) end);
            p = end;
        }
        return transferred;
    }

    private long piece(String function, Manifest.FileEntry f, FileChannel ch, long offset, int length) throws IOException {
        byte[] data = source.read(function, f.name(), offset, length);
        if (data.length != length) {
            throw new IOException(f.name() + " of " + function + ": asked for " + length + " bytes at " + offset + ", got " + data.length);
        }
        SparseFiles.write(ch, data, 0, length, offset);
        return length;
    }

    private byte[] readWhole(String function, String file) throws IOException {
        return source.read(function, file, 0, 1 << 20);
    }
}
