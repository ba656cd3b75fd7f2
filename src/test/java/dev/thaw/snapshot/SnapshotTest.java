package dev.thaw.snapshot;

import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SnapshotTest {
    private static Snapshot make(Path dir) throws Exception {
        Files.write(dir.resolve("vmstate"), new byte[]{1, 2, 3, 4});
        Files.write(dir.resolve("memory"), new byte[8192]);
        Manifest m = new Manifest(Manifest.VERSION, "f", "id", "now", "key", "k",
                new Manifest.Machine("microvm", 256, 1, "tcg"),
                List.of(new Manifest.FileEntry("vmstate", 4, Checksums.crc32c(dir.resolve("vmstate"))),
                        new Manifest.FileEntry("memory", 8192, Checksums.crc32c(dir.resolve("memory")))));
        Files.writeString(dir.resolve(Snapshot.MANIFEST), Json.write(m));
        return Snapshot.open(dir);
    }

    @Test
    void intactSnapshotVerifies() throws Exception {
        make(Files.createTempDirectory("snap")).verify();
    }

    @Test
    void changedBytesAreCaughtAndTheFileNamed() throws Exception {
        Path dir = Files.createTempDirectory("snap");
        Snapshot s = make(dir);
        s.verify();
        Files.write(dir.resolve("vmstate"), new byte[]{1, 2, 3, 5});
        Files.setLastModifiedTime(dir.resolve("vmstate"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
        var e = assertThrows(SnapshotCorruptException.class, s::verify);
        assertTrue(e.getMessage().contains(dir.resolve("vmstate").toString()), e.getMessage());
    }

    @Test
    void truncatedOrMissingFilesAreCaught() throws Exception {
        Path dir = Files.createTempDirectory("snap");
        Snapshot s = make(dir);
        Files.write(dir.resolve("memory"), new byte[10]);
        assertTrue(assertThrows(SnapshotCorruptException.class, s::verify).getMessage().contains("size"));
        Files.delete(dir.resolve("memory"));
        assertTrue(assertThrows(SnapshotCorruptException.class, s::verify).getMessage().contains("missing"));
    }

    @Test
    void unreadableManifestIsCorrupt() throws Exception {
        Path dir = Files.createTempDirectory("snap");
        Files.writeString(dir.resolve(Snapshot.MANIFEST), "{oops");
        assertThrows(SnapshotCorruptException.class, () -> Snapshot.open(dir));
    }
}
