package dev.thaw.snapshot;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * What a snapshot is and how to check it: written last, after every file it names is on disk
 * and fsynced, so a snapshot directory with a manifest is complete.
 *
 * <p>Per-chunk checksums ({@link Chunks}) were added to version 1 compatibly: the field is
 * optional (older manifests have none, older readers ignore it), and when present it is checked
 * strictly. They let a node fetching the snapshot from a peer trust a memory file piece by piece,
 * so a restore may read its pages before the whole file has arrived (docs/cluster.md).
 *
 * @param machine the device model the snapshot can be restored into
 * @param files   every file of the snapshot with its size and CRC32C
 */
public record Manifest(int version, String function, String snapshotId, String createdAt,
                       String imageKey, String kernelRelease, Machine machine, List<FileEntry> files) {
    public static final int VERSION = 1;

    public record Machine(String type, int memoryMib, int vcpus, String accel) {}

    /**
     * One file: its size and whole-file CRC32C, and for the memory files the CRC32C of every
     * {@code chunks.size()}-byte chunk (the last one may be shorter), or null.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FileEntry(String name, long size, String crc32c, Chunks chunks) {
        public FileEntry {
            if (chunks != null && chunks.crc32c().size() != (size + chunks.size() - 1) / chunks.size()) {
                throw new IllegalArgumentException("manifest entry " + name + " has " + chunks.crc32c().size() + " chunk checksums, its "
                        + size + " bytes make " + (size + chunks.size() - 1) / chunks.size() + " chunks of " + chunks.size());
            }
        }

        public FileEntry(String name, long size, String crc32c) {
            this(name, size, crc32c, null);
        }
    }

    /** CRC32C (8 hex digits) of each {@code size}-byte chunk of a file, in file order. */
    public record Chunks(int size, List<String> crc32c) {
        public Chunks {
            if (size < 4096 || Integer.bitCount(size) != 1) {
                throw new IllegalArgumentException("manifest chunk size must be a power of two of at least 4096 bytes, got " + size);
            }
            if (crc32c == null) throw new IllegalArgumentException("manifest chunks without checksums");
            for (String c : crc32c) {
                if (c == null || !c.matches("[0-9a-f]{8}")) throw new IllegalArgumentException("manifest chunk checksum must be 8 hex digits, got " + c);
            }
            crc32c = List.copyOf(crc32c);
        }
    }

    public FileEntry file(String name) {
        return files.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }
}
