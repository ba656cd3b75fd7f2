package dev.thaw.cluster;

import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.snapshot.Checksums;
import dev.thaw.snapshot.Manifest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Fetching a snapshot from a peer: pieces, checksums, a corrupted transfer refetched, sparse files kept sparse. */
class SnapshotFetcherTest {
    final Path root;
    final Path peer;
    final List<String> reads = new ArrayList<>();

    SnapshotFetcherTest() throws IOException {
        root = Files.createTempDirectory("thaw-fetch");
        peer = Files.createDirectories(root.resolve("peer"));
    }

    @AfterEach
    void clean() {
        FileTrees.delete(root);
    }

    /** A peer snapshot: vmstate, a 20 MiB memory file (data in the middle, zeros around) and its manifest. */
    Manifest writePeer() throws IOException {
        byte[] memory = new byte[20 << 20];
        byte[] data = new byte[3 << 20];
        new Random(7).nextBytes(data);
        System.arraycopy(data, 0, memory, 9 << 20, data.length);
        Files.write(peer.resolve("memory"), memory);
        Files.writeString(peer.resolve("vmstate"), "device state");
        List<Manifest.FileEntry> files = new ArrayList<>();
        for (String f : List.of("vmstate", "memory")) {
            files.add(new Manifest.FileEntry(f, Files.size(peer.resolve(f)), Checksums.crc32c(peer.resolve(f))));
        }
        Manifest m = new Manifest(1, "hello", "snap-1", "now", "key", "6.1", new Manifest.Machine("microvm", 20, 1, "tcg"), files);
        Files.write(peer.resolve("manifest.json"), Json.MAPPER.writeValueAsBytes(m));
        return m;
    }

    SnapshotFetcher.Source source(int corruptReads) {
        int[] left = {corruptReads};
        return (function, file, offset, length) -> {
            reads.add(file + "@" + offset);
            byte[] all = Files.readAllBytes(peer.resolve(file));
            byte[] piece = Arrays.copyOfRange(all, (int) offset, (int) Math.min(all.length, offset + length));
            if (file.equals("memory") && offset <= (9 << 20) && offset + piece.length > (9 << 20) + 5 && left[0]-- > 0) piece[(int) ((9 << 20) + 5 - offset)] ^= 1; // one bit flipped in transit
            return piece;
        };
    }

    @Test
    void fetchesEveryFileAndKeepsZeroPagesAsHoles() throws IOException {
        Manifest m = writePeer();
        Path dir = root.resolve("got");
        SnapshotFetcher.Result r = new SnapshotFetcher(source(0)).fetch("hello", "snap-1", dir);
        assertEquals(0, r.refetches());
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(dir.resolve("memory")));
        assertTrue(Files.exists(dir.resolve("manifest.json")));
        assertEquals(m.snapshotId(), Json.MAPPER.readValue(dir.resolve("manifest.json").toFile(), Manifest.class).snapshotId());
        long allocated;
        try (dev.thaw.sys.Native.Fd fd = dev.thaw.sys.Native.open(dir.resolve("memory"), dev.thaw.sys.Native.O_RDONLY)) {
            allocated = dev.thaw.sys.Native.fstat(fd).allocatedBytes();
        }
        assertTrue(allocated < (8 << 20), "zero pages stay holes: " + allocated + " bytes allocated for 20 MiB");
        assertEquals("manifest.json@0", reads.getFirst());
    }

    @Test
    void memoryIsCopiedFromItsSparseTwinNotSentTwice() throws IOException {
        writePeer();
        Files.copy(peer.resolve("memory"), peer.resolve("memory.sparse"));
        Manifest m = Json.MAPPER.readValue(peer.resolve("manifest.json").toFile(), Manifest.class);
        List<Manifest.FileEntry> files = new ArrayList<>(m.files());
        files.add(new Manifest.FileEntry("memory.sparse", m.file("memory").size(), m.file("memory").crc32c()));
        Files.write(peer.resolve("manifest.json"), Json.MAPPER.writeValueAsBytes(new Manifest(1, "hello", "snap-1", "now", "key",
                "6.1", m.machine(), files)));
        SnapshotFetcher.Result r = new SnapshotFetcher(source(0)).fetch("hello", "snap-1", root.resolve("got"));
        assertEquals(Files.size(peer.resolve("memory")) + Files.size(peer.resolve("vmstate")), r.bytes());
        assertTrue(reads.stream().noneMatch(s -> s.startsWith("memory@")), "memory came from memory.sparse: " + reads);
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(root.resolve("got/memory")));
    }

    @Test
    void theLoadingSetArrivesBeforeTheRestOfTheSparseFile() throws IOException {
        writePeer();
        Files.copy(peer.resolve("memory"), peer.resolve("memory.sparse"));
        Files.writeString(peer.resolve("ws.json"), "{\"version\": 1, \"snapshot_id\": \"snap-1\", \"total_pages\": 5120, "
                + "\"sample_interval_ms\": 4, \"groups\": [[{\"start\": 4000, \"count\": 16}], [{\"start\": 2304, \"count\": 8}, {\"start\": 2320, \"count\": 4}]], "
                + "\"zero_pages\": []}");
        List<Manifest.FileEntry> files = new ArrayList<>();
        for (String f : List.of("vmstate", "ws.json", "memory.sparse")) {
            files.add(new Manifest.FileEntry(f, Files.size(peer.resolve(f)), Checksums.crc32c(peer.resolve(f))));
        }
        Files.write(peer.resolve("manifest.json"), Json.MAPPER.writeValueAsBytes(new Manifest(1, "hello", "snap-1", "now", "key",
                "6.1", new Manifest.Machine("microvm", 20, 1, "tcg"), files)));
        SnapshotFetcher.Result r = new SnapshotFetcher(source(0)).fetch("hello", "snap-1", root.resolve("got"));
        List<String> sparse = reads.stream().filter(s -> s.startsWith("memory.sparse@")).toList();
        assertEquals(List.of("memory.sparse@" + 4000L * 4096, "memory.sparse@" + 2304L * 4096, "memory.sparse@0"), sparse.subList(0, 3),
                "first-touch order (near runs joined into one piece), then the rest from the file's start: " + sparse);
        assertTrue(r.loadingSetMillis() >= 0);
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(root.resolve("got/memory.sparse")));
    }

    @Test
    void aCorruptedTransferIsDetectedAndFetchedAgain() throws IOException {
        writePeer();
        SnapshotFetcher.Result r = new SnapshotFetcher(source(1)).fetch("hello", "snap-1", root.resolve("got"));
        assertEquals(1, r.refetches());
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(root.resolve("got/memory")));
    }

    @Test
    void aTransferThatStaysCorruptFailsNamingTheFile() throws IOException {
        writePeer();
        IOException e = assertThrows(IOException.class,
                () -> new SnapshotFetcher(source(99)).fetch("hello", "snap-1", root.resolve("got")));
        assertTrue(e.getMessage().contains("memory"), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aPeerWithAnotherSnapshotIsRefused() throws IOException {
        writePeer();
        IOException e = assertThrows(IOException.class, () -> new SnapshotFetcher(source(0)).fetch("hello", "snap-2", root.resolve("got")));
        assertTrue(e.getMessage().contains("snap-2"), e.getMessage());
    }

    @Test
    void fetchOrderParsesItsTwoNamesOnly() {
        assertEquals(SnapshotFetcher.Order.WS_FIRST, SnapshotFetcher.Order.parse("ws-first"));
        assertEquals(SnapshotFetcher.Order.WHOLE_FILE, SnapshotFetcher.Order.parse("whole-file"));
        assertThrows(IllegalArgumentException.class, () -> SnapshotFetcher.Order.parse("WS_FIRST"));
    }

    @Test
    void aPageAReaderWaitsForIsFetchedBeforeThePlannedOrder() throws IOException {
        writePeer();
        Path dir = root.resolve("got");
        dev.thaw.memory.FetchProgress[] progress = new dev.thaw.memory.FetchProgress[1];
        SnapshotFetcher.Source plain = source(0);
        SnapshotFetcher.Source faulting = (function, file, offset, length) -> {
            byte[] b = plain.read(function, file, offset, length);
            // the first piece of memory is being written while a restore faults on page 4000
            if (file.equals("memory") && offset == 0) progress[0].demand(4000L * 4096, 4096);
            return b;
        };
        new SnapshotFetcher(faulting, SnapshotFetcher.Order.WHOLE_FILE).fetch("hello", "snap-1", dir, f -> {
            if (!f.name().equals("memory")) return null;
            return progress[0] = new dev.thaw.memory.FetchProgress(f.size(), java.time.Duration.ofSeconds(30));
        });
        List<String> memory = reads.stream().filter(r -> r.startsWith("memory@")).toList();
        assertEquals(List.of("memory@0", "memory@" + 4000L * 4096), memory.subList(0, 2), "the demanded page came next: " + memory);
        assertEquals(memory.size(), memory.stream().distinct().count(), "no piece fetched twice: " + memory);
        assertTrue(progress[0].complete());
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(dir.resolve("memory")));
    }

    @Test
    void aWatchedFileThatFailsItsChecksumFailsItsEarlyReaders() throws IOException {
        writePeer();
        dev.thaw.memory.FetchProgress[] progress = new dev.thaw.memory.FetchProgress[1];
        SnapshotFetcher.Result r = new SnapshotFetcher(source(1)).fetch("hello", "snap-1", root.resolve("got"), f ->
                f.name().equals("memory") ? progress[0] = new dev.thaw.memory.FetchProgress(f.size(), java.time.Duration.ofSeconds(30)) : null);
        assertEquals(1, r.refetches());
        IOException e = assertThrows(IOException.class, () -> progress[0].await(0, 4096));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    /** A peer snapshot as a current deploy writes it: vmstate, ws.json, memory and memory.sparse with per-chunk checksums. */
    void writeChunkedPeer() throws IOException {
        writePeer();
        Files.copy(peer.resolve("memory"), peer.resolve("memory.sparse"));
        Files.writeString(peer.resolve("ws.json"), "{\"version\": 1, \"snapshot_id\": \"snap-1\", \"total_pages\": 5120, "
                + "\"sample_interval_ms\": 4, \"groups\": [[{\"start\": 2304, \"count\": 8}]], \"zero_pages\": []}");
        List<Manifest.FileEntry> files = new ArrayList<>();
        for (String f : List.of("vmstate", "ws.json")) {
            files.add(new Manifest.FileEntry(f, Files.size(peer.resolve(f)), Checksums.crc32c(peer.resolve(f))));
        }
        for (String f : List.of("memory", "memory.sparse")) {
            var sums = dev.thaw.snapshot.Checksums.of(peer.resolve(f), 1 << 20);
            files.add(new Manifest.FileEntry(f, Files.size(peer.resolve(f)), sums.whole(), sums.chunks()));
        }
        Files.write(peer.resolve("manifest.json"), Json.MAPPER.writeValueAsBytes(new Manifest(1, "hello", "snap-1", "now", "key",
                "6.1", new Manifest.Machine("microvm", 20, 1, "tcg"), files)));
    }

    /** A source that flips one bit of memory.sparse at 9 MiB + 5 in its first {@code corrupt} answers holding it. */
    SnapshotFetcher.Source sparseSource(int corrupt, java.util.function.Consumer<Long> onRead) {
        int[] left = {corrupt};
        return (function, file, offset, length) -> {
            reads.add(file + "@" + offset + "+" + length);
            if (onRead != null && file.equals("memory.sparse")) onRead.accept(offset);
            byte[] all = Files.readAllBytes(peer.resolve(file));
            byte[] piece = Arrays.copyOfRange(all, (int) offset, (int) Math.min(all.length, offset + length));
            long bad = (9 << 20) + 5;
            if (file.equals("memory.sparse") && offset <= bad && offset + piece.length > bad && left[0]-- > 0) piece[(int) (bad - offset)] ^= 1;
            return piece;
        };
    }

    @Test
    void aCorruptedChunkIsRefetchedAloneNotTheWholeFile() throws IOException {
        writeChunkedPeer();
        SnapshotFetcher.Result r = new SnapshotFetcher(sparseSource(1, null), SnapshotFetcher.Order.WHOLE_FILE)
                .fetch("hello", "snap-1", root.resolve("got"));
        assertEquals(1, r.refetches());
        List<String> sparse = reads.stream().filter(s -> s.startsWith("memory.sparse@")).toList();
        assertEquals(List.of("memory.sparse@0+" + (8 << 20), "memory.sparse@" + (8 << 20) + "+" + (8 << 20),
                "memory.sparse@" + (9 << 20) + "+" + (1 << 20), "memory.sparse@" + (16 << 20) + "+" + (4 << 20)), sparse,
                "three 8 MiB requests, the bad chunk fetched again alone right after its request");
        assertTrue(reads.stream().noneMatch(s -> s.startsWith("memory@")), "memory is copied from the sparse twin: " + reads);
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(root.resolve("got/memory.sparse")));
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(root.resolve("got/memory")));
    }

    @Test
    void aReaderOfAnEarlyInstallNeverSeesACorruptChunk() throws Exception {
        writeChunkedPeer();
        Path moved = root.resolve("installed");
        dev.thaw.memory.FetchProgress[] progress = new dev.thaw.memory.FetchProgress[1];
        List<String> atInstall = new ArrayList<>();
        byte[][] seen = new byte[1][];
        Thread[] reader = new Thread[1];
        SnapshotFetcher.Result r = new SnapshotFetcher(sparseSource(1, null)).fetchEarly("hello", "snap-1", root.resolve("got"),
                (m, dir, p) -> {
                    try (var files = Files.list(dir)) {
                        files.forEach(f -> atInstall.add(f.getFileName().toString()));
                    }
                    Files.move(dir, moved);
                    progress[0] = p;
                    // a restore faulting on the corrupted page while the file arrives
                    reader[0] = Thread.ofPlatform().start(() -> {
                        try {
                            p.await((9 << 20), 4096);
                            try (var ch = java.nio.channels.FileChannel.open(moved.resolve("memory.sparse"))) {
                                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096);
                                ch.read(b, 9 << 20);
                                seen[0] = b.array();
                            }
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    return moved;
                });
        reader[0].join();
        java.util.Collections.sort(atInstall);
        assertEquals(List.of("memory.sparse", "vmstate", "ws.json"), atInstall, "everything but the memory files, and the sized memory.sparse");
        assertEquals(1, r.refetches());
        assertTrue(progress[0].complete());
        assertArrayEquals(Arrays.copyOfRange(Files.readAllBytes(peer.resolve("memory")), 9 << 20, (9 << 20) + 4096), seen[0],
                "the reader saw the verified page, not the flipped bit");
        assertTrue(Files.exists(moved.resolve("manifest.json")));
        assertArrayEquals(Files.readAllBytes(peer.resolve("memory")), Files.readAllBytes(moved.resolve("memory")));
    }

    @Test
    void aChunkThatStaysCorruptFailsTheFetchAndItsEarlyReaders() throws IOException {
        writeChunkedPeer();
        dev.thaw.memory.FetchProgress[] progress = new dev.thaw.memory.FetchProgress[1];
        IOException e = assertThrows(IOException.class, () -> new SnapshotFetcher(sparseSource(99, null)).fetchEarly("hello", "snap-1",
                root.resolve("got"), (m, dir, p) -> {
                    progress[0] = p;
                    return dir;
                }));
        assertTrue(e.getMessage().contains("chunk 9"), e.getMessage());
        IOException waiter = assertThrows(IOException.class, () -> progress[0].await(9 << 20, 4096));
        assertTrue(waiter.getMessage().contains("fetch"), waiter.getMessage());
    }

    @Test
    void aDemandedChunkComesBeforeThePlannedOrder() throws IOException {
        writeChunkedPeer();
        dev.thaw.memory.FetchProgress[] progress = new dev.thaw.memory.FetchProgress[1];
        SnapshotFetcher.Source src = sparseSource(0, offset -> {
            if (offset == 0 && progress[0] != null) progress[0].demand(17L << 20, 4096); // a fault on 17 MiB while the first piece arrives
        });
        new SnapshotFetcher(src, SnapshotFetcher.Order.WHOLE_FILE).fetchEarly("hello", "snap-1", root.resolve("got"), (m, dir, p) -> {
            progress[0] = p;
            return dir;
        });
        List<String> sparse = reads.stream().filter(s -> s.startsWith("memory.sparse@")).toList();
        assertEquals(List.of("memory.sparse@0+" + (2 << 20), "memory.sparse@" + (17 << 20) + "+" + (1 << 20)), sparse.subList(0, 2),
                "2 MiB requests while watched, and the demanded chunk next: " + sparse);
        assertTrue(progress[0].complete());
    }
}
