package dev.thaw.snapshot;

import dev.thaw.common.Json;
import dev.thaw.guest.GuestImage;
import dev.thaw.vm.VmConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Seals a snapshot directory: fsyncs its files, checksums them and writes the manifest last.
 * Nothing is lost on a crash: a directory without a manifest is an unfinished snapshot and is
 * discarded at start-up; one with a manifest has every file it names durable on disk.
 */
public final class SnapshotWriter {
    /** Files a snapshot may have; those present are sealed into the manifest. */
    public static final List<String> FILES = List.of(Snapshot.VMSTATE, Snapshot.MEMORY, Snapshot.WORKING_SET, Snapshot.SPARSE_MEMORY,
            Snapshot.WORKING_SET_PAGES);

    /** Files whose manifest entry carries per-chunk checksums: the memory files a fetching node may restore from early. */
    static final List<String> CHUNKED = List.of(Snapshot.MEMORY, Snapshot.SPARSE_MEMORY);

    private SnapshotWriter() {}

    public static String newId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    public static Snapshot seal(Path dir, String snapshotId, String function, GuestImage image, VmConfig config) {
        try {
            List<Manifest.FileEntry> entries = new ArrayList<>();
            for (String name : FILES) {
                Path p = dir.resolve(name);
                if (!Files.exists(p)) continue;
                fsync(p);
                if (CHUNKED.contains(name)) { // one read for both: the whole file's CRC and its chunks' (early restores)
                    Checksums.Sums sums = Checksums.of(p, Checksums.CHUNK);
                    entries.add(new Manifest.FileEntry(name, Files.size(p), sums.whole(), sums.chunks()));
                } else {
                    entries.add(new Manifest.FileEntry(name, Files.size(p), Checksums.crc32c(p)));
                }
            }
            Manifest m = new Manifest(Manifest.VERSION, function, snapshotId, Instant.now().toString(),
                    image.key(), image.kernelRelease(),
                    new Manifest.Machine("microvm", config.memoryMib(), config.vcpus(), config.accel().name().toLowerCase()),
                    entries);
            Path tmp = dir.resolve(Snapshot.MANIFEST + ".tmp");
            Files.writeString(tmp, Json.pretty(m));
            fsync(tmp);
            Files.move(tmp, dir.resolve(Snapshot.MANIFEST), StandardCopyOption.ATOMIC_MOVE);
            fsync(dir);
            Snapshot s = Snapshot.open(dir);
            s.trustCurrentFiles(); // the checksums were just computed from these very bytes
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot seal snapshot " + dir, e);
        }
    }

    static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, Files.isDirectory(p) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }
}
