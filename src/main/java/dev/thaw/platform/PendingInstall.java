package dev.thaw.platform;

import java.nio.file.Path;

/**
 * A deployment installed before its memory files have arrived from a peer (docs/cluster.md,
 * "First restore on a fetching node"), held by the fetch that installed it: restores of it run
 * over userfaultfd and wait for pages not yet here; when the fetch has written and checked
 * everything, {@link #complete} makes it a normal deployment; if the fetch fails for good,
 * {@link #abandon} stops its instances and deletes it, so nothing half-fetched is left.
 */
public final class PendingInstall {
    private final FunctionRegistry registry;
    private final String name;
    private final String snapshotId;
    private final Path snapshotDir;

    PendingInstall(FunctionRegistry registry, String name, String snapshotId, Path snapshotDir) {
        this.registry = registry;
        this.name = name;
        this.snapshotId = snapshotId;
        this.snapshotDir = snapshotDir;
    }

    /** Where the installed snapshot lives now: the fetch writes the memory files here. */
    public Path snapshotDir() {
        return snapshotDir;
    }

    /** Every file arrived and passed its checksum: the snapshot is complete. False if the deployment went meanwhile (undeployed, replaced). */
    public boolean complete() {
        return registry.completePending(name, snapshotId);
    }

    /** The fetch failed for good: stop the instances restored from it and delete it. */
    public void abandon() {
        registry.abandonPending(name, snapshotId);
    }
}
