package dev.thaw.snapshot;

import dev.thaw.common.Json;
import dev.thaw.memory.PageAvailability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stored snapshot: its directory, manifest, and the integrity check done before a restore.
 *
 * <p>Checksumming a 256 MiB memory file on every restore would read it all into the page cache
 * and defeat the point of lazy loading. So a file is checksummed once, when the snapshot is
 * opened, and again only when its size or modification time differs from what was verified.
 * A stat per file per restore is all the hot path pays.
 */
public final class Snapshot {
    public static final String MEMORY = "memory";
    public static final String VMSTATE = "vmstate";
    public static final String MANIFEST = "manifest.json";
    /** The recorded working set (see {@code dev.thaw.memory.WorkingSet}). */
    public static final String WORKING_SET = "ws.json";
    /** The memory file with its zero pages left as holes, for FaaSnap restores. */
    public static final String SPARSE_MEMORY = "memory.sparse";
    /** REAP's working-set file: the recorded pages back to back (see {@code dev.thaw.memory.WorkingSetFile}). */
    public static final String WORKING_SET_PAGES = "ws.pages";

    private final Path dir;
    private final Manifest manifest;
    private final Map<String, String> verifiedStamp = new ConcurrentHashMap<>();
    /** Non-null while the snapshot's memory files are still arriving from a peer. */
    private final PageAvailability arriving;

    private Snapshot(Path dir, Manifest manifest, PageAvailability arriving) {
        this.dir = dir;
        this.manifest = manifest;
        this.arriving = arriving;
    }

    /**
     * A snapshot whose memory files are still being fetched (docs/cluster.md, early restore):
     * every other file is here and was checked against {@code manifest} as it arrived;
     * {@code memory.sparse} has its full size and its pages become readable as {@code arriving}
     * says, each verified against its chunk checksum first. Only a userfaultfd restore can use it
     * (it reads pages itself and can wait for them); {@link #verify} skips the memory files, and
     * {@link #memoryFile} is {@code memory.sparse} (the same bytes, zero pages as holes).
     */
    public static Snapshot pending(Path dir, Manifest manifest, PageAvailability arriving) {
        if (manifest.file(SPARSE_MEMORY) == null || manifest.file(SPARSE_MEMORY).chunks() == null) {
            throw new IllegalArgumentException("an early restore needs a memory.sparse with per-chunk checksums");
        }
        Snapshot s = new Snapshot(dir, manifest, java.util.Objects.requireNonNull(arriving));
        s.trustCurrentFiles();
        return s;
    }

    /** Whether the memory files are still arriving ({@link #pending}). */
    public boolean pending() {
        return arriving != null;
    }

    /** What a page server must wait on before reading the memory file: {@link PageAvailability#COMPLETE} unless pending. */
    public PageAvailability availability() {
        return arriving == null ? PageAvailability.COMPLETE : arriving;
    }

    private boolean arrivingFile(String name) {
        return arriving != null && (name.equals(MEMORY) || name.equals(SPARSE_MEMORY));
    }

    /** Opens a snapshot directory; throws if its manifest is missing or unreadable. */
    public static Snapshot open(Path dir) {
        Path m = dir.resolve(MANIFEST);
        try {
            Manifest manifest = Json.MAPPER.readValue(m.toFile(), Manifest.class);
            if (manifest.version() != Manifest.VERSION) {
                throw new SnapshotCorruptException(m + ": unsupported manifest version " + manifest.version());
            }
            return new Snapshot(dir, manifest, null);
        } catch (IOException e) {
            throw new SnapshotCorruptException("cannot read " + m + ": " + e.getMessage());
        }
    }

    /**
     * Opens a snapshot this process has just sealed: its checksums were computed from the very
     * bytes on disk moments ago, so the first restore need not read every file again to check them.
     */
    public static Snapshot openSealed(Path dir) {
        Snapshot s = open(dir);
        s.trustCurrentFiles();
        return s;
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The memory file: {@code memory}, or while pending {@code memory.sparse}, which is what arrives first. */
    public Path memoryFile() {
        return dir.resolve(arriving != null ? SPARSE_MEMORY : MEMORY);
    }

    public Path sparseMemoryFile() {
        return dir.resolve(SPARSE_MEMORY);
    }

    public boolean has(String file) {
        return manifest.file(file) != null;
    }

    public Path vmstateFile() {
        return dir.resolve(VMSTATE);
    }

    /** Every file of the snapshot, for page-cache control (while pending, those already here). */
    public java.util.List<Path> files() {
        return manifest.files().stream().filter(f -> !arrivingFile(f.name())).map(f -> dir.resolve(f.name())).toList();
    }

    /**
     * Checks every file against the manifest: size and stamp always, CRC32C when the file changed
     * since it was last verified. Throws {@link SnapshotCorruptException} naming the bad file.
     * While pending, the memory files are skipped: they are checked chunk by chunk as they arrive.
     */
    public void verify() {
        for (Manifest.FileEntry f : manifest.files()) {
            if (arrivingFile(f.name())) continue;
            Path p = dir.resolve(f.name());
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class);
            } catch (IOException e) {
                throw new SnapshotCorruptException("snapshot file " + p + " is missing");
            }
            if (a.size() != f.size()) {
                throw new SnapshotCorruptException("snapshot file " + p + " has size " + a.size() + ", manifest says " + f.size());
            }
            String stamp = a.size() + "@" + a.lastModifiedTime().toMillis();
            if (stamp.equals(verifiedStamp.get(f.name()))) continue;
            String crc = Checksums.crc32c(p);
            if (!crc.equals(f.crc32c())) {
                throw new SnapshotCorruptException("snapshot file " + p + " fails its checksum (crc32c " + crc + ", manifest says " + f.crc32c() + ")");
            }
            verifiedStamp.put(f.name(), stamp);
        }
    }

    /** Records the files' current stamps as verified: used right after their checksums were computed. */
    void trustCurrentFiles() {
        for (Manifest.FileEntry f : manifest.files()) {
            if (arrivingFile(f.name())) continue;
            try {
                BasicFileAttributes a = Files.readAttributes(dir.resolve(f.name()), BasicFileAttributes.class);
                verifiedStamp.put(f.name(), a.size() + "@" + a.lastModifiedTime().toMillis());
            } catch (IOException e) {
                throw new SnapshotCorruptException("snapshot file " + dir.resolve(f.name()) + " is missing");
            }
        }
    }
}
