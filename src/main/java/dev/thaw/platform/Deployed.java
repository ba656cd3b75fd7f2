package dev.thaw.platform;

import dev.thaw.memory.PageRun;
import dev.thaw.memory.RegionList;
import dev.thaw.memory.Runs;
import dev.thaw.memory.WorkingSet;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.Snapshot;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A deployed function as stored under the data directory: {@code code/} (its bundle),
 * {@code snapshot/} (manifest, vmstate, memory, and the working-set record when there is one).
 * Everything a restore or an invocation derives from these files is computed once, here, so
 * the hot paths read no code files and build no page sets.
 *
 * @param plan the prefetch plan of the snapshot's current working-set record, or null
 */
record Deployed(FunctionBundle code, String codeHash, Path dir, Snapshot snapshot, LoadPlan plan) {
    private static final System.Logger LOG = System.getLogger(Deployed.class.getName());

    /**
     * What the recorded working set means for a restore: REAP's runs (file order), FaaSnap's
     * loading-set runs (group order), and the two sizes reported with every invocation; for
     * FaaSnap's per-region layout, the zero regions mapped anonymous ({@link RegionList}) and the
     * loading-set runs without them (the prefetcher of the file mapping need not read those);
     * for the {@code thaw} install from ws.pages, the loading set in group order without merged gaps,
     * and the working set's zero pages outside those regions (the regions go to the kernel whole).
     */
    record LoadPlan(List<PageRun> reapRuns, List<PageRun> faasnapRuns, long workingSetPages, long loadingSetPages,
                    String method, Map<String, Long> pagesByMethod, List<PageRun> workingSetFileRuns,
                    List<PageRun> zeroRunsOutsideRegions, long totalPages, List<PageRun> zeroRegions,
                    List<PageRun> regionPrefetchRuns, List<PageRun> exactLoadingRuns) {
        static LoadPlan of(WorkingSet ws) {
            java.util.BitSet zero = ws.pages();
            zero.and(Runs.toBitSet(ws.zeroPages()));
            List<PageRun> faasnap = ws.faasnapRuns();
            List<PageRun> regions = RegionList.regions(ws.zeroPages());
            return new LoadPlan(ws.reapRuns(), faasnap, ws.workingSetPages(), ws.loadingSetPages(),
                    ws.method() == null ? "pagemap" : ws.method(), ws.pagesByMethod(), Runs.of(ws.pages()), RegionList.without(Runs.of(zero), regions),
                    ws.totalPages(), regions, RegionList.without(faasnap, regions), ws.loadingRuns(0));
        }
    }

    /** Opens a deployment found on disk (its files are checked before their first restore). */
    static Deployed open(Path dir) throws IOException {
        return open(dir, Snapshot.open(dir.resolve("snapshot")));
    }

    /** Opens a deployment this process has just built and sealed. */
    static Deployed openSealed(Path dir) throws IOException {
        return open(dir, Snapshot.openSealed(dir.resolve("snapshot")));
    }

    private static Deployed open(Path dir, Snapshot snap) throws IOException {
        return open(FunctionBundle.fromDirectory(dir.resolve("code")), dir, snap);
    }

    /** A deployment of {@code code} in {@code dir} with {@code snap} (a pending one, still arriving). */
    static Deployed open(FunctionBundle code, Path dir, Snapshot snap) {
        return new Deployed(code, code.hash(), dir, snap, loadPlan(code.spec().name(), snap));
    }

    /** The plan of the snapshot's record, if it belongs to this very snapshot (a stale one is worse than none). */
    private static LoadPlan loadPlan(String function, Snapshot snap) {
        if (!snap.has(Snapshot.WORKING_SET)) return null;
        try {
            WorkingSet ws = WorkingSet.read(snap.dir().resolve(Snapshot.WORKING_SET));
            return ws != null && ws.snapshotId().equals(snap.manifest().snapshotId()) ? LoadPlan.of(ws) : null;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable working-set record of " + function + ": " + e.getMessage());
            return null;
        }
    }

    FunctionSpec spec() {
        return code.spec();
    }

    String name() {
        return code.spec().name();
    }

    /** The strategy for a warm call that finds no idle instance. */
    Mode defaultRestore() {
        return spec().restore();
    }
}
