package dev.thaw.snapshot;

import java.util.List;

/**
 * What a snapshot is and how to check it: written last, after every file it names is on disk
 * and fsynced, so a snapshot directory with a manifest is complete.
 *
 * @param machine the device model the snapshot can be restored into
 * @param files   every file of the snapshot with its size and CRC32C
 */
public record Manifest(int version, String function, String snapshotId, String createdAt,
                       String imageKey, String kernelRelease, Machine machine, List<FileEntry> files) {
    public static final int VERSION = 1;

    public record Machine(String type, int memoryMib, int vcpus, String accel) {}

    public record FileEntry(String name, long size, String crc32c) {}

    public FileEntry file(String name) {
        return files.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }
}
