package dev.thaw.snapshot;

import dev.thaw.common.Json;
import dev.thaw.memory.PageAvailability;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Per-chunk checksums: computed with the whole-file CRC, parsed strictly, optional for old manifests; a pending snapshot. */
class ChecksumsTest {
    @Test
    void chunksAndWholeFileComeFromOneReadAndAgreeWithTheFileCrc() throws Exception {
        Path f = Files.createTempFile("mem", "");
        byte[] data = new byte[(3 << 12) + 100]; // three 4 KiB chunks and a short last one
        new Random(3).nextBytes(data);
        Files.write(f, data);
        Checksums.Sums s = Checksums.of(f, 4096);
        assertEquals(Checksums.crc32c(f), s.whole());
        assertEquals(4, s.chunks().crc32c().size());
        assertEquals(Checksums.crc32c(data, 3 << 12, 100), s.chunks().crc32c().get(3));
        data[5000] ^= 1; // a flipped bit changes exactly the chunk holding it
        assertNotEquals(s.chunks().crc32c().get(1), Checksums.crc32c(data, 4096, 4096));
        assertEquals(s.chunks().crc32c().get(0), Checksums.crc32c(data, 0, 4096));
    }

    @Test
    void malformedChunkListsAreRefusedAndAbsentOnesAccepted() throws Exception {
        String base = "{\"version\": 1, \"function\": \"f\", \"snapshotId\": \"id\", \"createdAt\": \"now\", \"imageKey\": \"k\", "
                + "\"kernelRelease\": \"6\", \"machine\": {\"type\": \"microvm\", \"memoryMib\": 1, \"vcpus\": 1, \"accel\": \"tcg\"}, \"files\": [%s]}";
        assertNull(Json.MAPPER.readValue(base.formatted("{\"name\": \"memory\", \"size\": 8192, \"crc32c\": \"00000000\"}"),
                Manifest.class).file("memory").chunks(), "an older manifest: no chunks, no early restore");
        for (String bad : List.of("{\"size\": 4096, \"crc32c\": [\"00000000\"]}", // 8 KiB make two chunks
                "{\"size\": 3000, \"crc32c\": [\"00000000\", \"00000000\", \"00000000\"]}", // not a power of two
                "{\"size\": 4096, \"crc32c\": [\"0000000g\", \"00000000\"]}")) {
            String json = base.formatted("{\"name\": \"memory\", \"size\": 8192, \"crc32c\": \"00000000\", \"chunks\": " + bad + "}");
            assertThrows(Exception.class, () -> Json.MAPPER.readValue(json, Manifest.class), bad);
        }
    }

    @Test
    void aPendingSnapshotVerifiesWithoutItsMemoryFilesAndServesTheSparseOne() throws Exception {
        Path dir = Files.createTempDirectory("snap");
        Files.write(dir.resolve("vmstate"), new byte[]{1, 2, 3, 4});
        Files.write(dir.resolve("memory.sparse"), new byte[8192]); // sized, not arrived
        Manifest m = new Manifest(1, "f", "id", "now", "key", "k", new Manifest.Machine("microvm", 1, 1, "tcg"), List.of(
                new Manifest.FileEntry("vmstate", 4, Checksums.crc32c(dir.resolve("vmstate"))),
                new Manifest.FileEntry("memory", 8192, "12345678"),
                new Manifest.FileEntry("memory.sparse", 8192, "12345678", new Manifest.Chunks(4096, List.of("11111111", "22222222")))));
        Snapshot s = Snapshot.pending(dir, m, PageAvailability.COMPLETE);
        s.verify();
        assertTrue(s.pending());
        assertEquals(dir.resolve("memory.sparse"), s.memoryFile());
        assertEquals(List.of(dir.resolve("vmstate")), s.files());
        Manifest unchunked = new Manifest(1, "f", "id", "now", "key", "k", m.machine(),
                List.of(m.files().get(0), new Manifest.FileEntry("memory.sparse", 8192, "12345678")));
        assertThrows(IllegalArgumentException.class, () -> Snapshot.pending(dir, unchunked, PageAvailability.COMPLETE),
                "without chunk sums early bytes could not be trusted");
    }
}
