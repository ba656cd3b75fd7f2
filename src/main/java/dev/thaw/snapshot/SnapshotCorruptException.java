package dev.thaw.snapshot;

/** A snapshot file is missing or does not match its manifest; the snapshot must not be restored. */
public final class SnapshotCorruptException extends RuntimeException {
    public SnapshotCorruptException(String message) {
        super(message);
    }
}
