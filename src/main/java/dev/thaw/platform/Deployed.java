package dev.thaw.platform;

import dev.thaw.memory.WorkingSet;
import dev.thaw.snapshot.Snapshot;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A deployed function as stored under the data directory: {@code code/} (its bundle),
 * {@code snapshot/} (manifest, vmstate, memory, and the working-set record when there is one).
 */
record Deployed(FunctionSpec spec, Path dir, Snapshot snapshot, WorkingSet workingSet, String codeHash) {
    private static final System.Logger LOG = System.getLogger(Deployed.class.getName());

    /** Opens a deployment found on disk (its files are checked before their first restore). */
    static Deployed open(Path dir) throws IOException {
        return open(dir, Snapshot.open(dir.resolve("snapshot")));
    }

    /** Opens a deployment this process has just built and sealed. */
    static Deployed openSealed(Path dir) throws IOException {
        return open(dir, Snapshot.openSealed(dir.resolve("snapshot")));
    }

    private static Deployed open(Path dir, Snapshot snap) throws IOException {
        FunctionBundle code = FunctionBundle.fromDirectory(dir.resolve("code"));
        WorkingSet ws = null;
        if (snap.has(Snapshot.WORKING_SET)) {
            try {
                ws = WorkingSet.read(snap.dir().resolve(Snapshot.WORKING_SET));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "unreadable working-set record of " + code.spec().name() + ": " + e.getMessage());
            }
        }
        return new Deployed(code.spec(), dir, snap, ws, code.hash());
    }

    String name() {
        return spec.name();
    }

    /** The strategy for a warm call that finds no idle instance. */
    Mode defaultRestore() {
        return Mode.parse(spec.restore());
    }

    /** The record, if it belongs to this very snapshot (a stale one is worse than none). */
    WorkingSet currentWorkingSet() {
        return workingSet != null && workingSet.snapshotId().equals(snapshot.manifest().snapshotId()) ? workingSet : null;
    }
}
