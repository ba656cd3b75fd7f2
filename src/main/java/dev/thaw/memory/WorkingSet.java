package dev.thaw.memory;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.common.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A function's recorded working set: the guest pages one invocation touched after a restore,
 * in working-set groups (pages first seen in the same sampling interval, groups in time order),
 * plus the snapshot's zero pages. Stored beside the snapshot as {@code ws.json}.
 *
 * <p>Two views feed the two prefetchers. REAP wants the whole working set in file order, merged
 * into long runs, for one sequential pass before the VM resumes. FaaSnap wants the loading set —
 * the working set without zero pages, which read as holes at no I/O cost — in group order, so the
 * pages the guest needs first arrive first while it already runs.
 *
 * @param snapshotId the snapshot this record belongs to; a mismatch makes the record stale
 * @param groups     page runs per group, groups in first-touch order
 * @param zeroPages  the snapshot memory file's all-zero pages, as runs
 * @param method     how the groups were recorded: {@code uffd} (faults, exact) or {@code pagemap}
 *                   (sampled page tables); absent in records older than issue 11 (pagemap)
 * @param pagesByMethod the working-set size each method recorded for this snapshot, for comparison
 */
public record WorkingSet(@JsonProperty("version") int version,
                         @JsonProperty("snapshot_id") String snapshotId,
                         @JsonProperty("total_pages") long totalPages,
                         @JsonProperty("sample_interval_ms") int sampleIntervalMs,
                         @JsonProperty("groups") List<List<PageRun>> groups,
                         @JsonProperty("zero_pages") List<PageRun> zeroPages,
                         @JsonProperty("method") String method,
                         @JsonProperty("pages_by_method") java.util.Map<String, Long> pagesByMethod) {
    public static final int VERSION = 1;
    /** FaaSnap merges gaps shorter than 32 pages: one larger read beats two seeks. */
    public static final int MERGE_GAP_PAGES = 32;

    /** Builds a record from sampled groups (bitsets of newly seen pages) and the zero-page scan. */
    public static WorkingSet of(String snapshotId, long totalPages, int intervalMs, List<BitSet> groups, BitSet zero) {
        List<List<PageRun>> g = new ArrayList<>();
        for (BitSet b : groups) if (!b.isEmpty()) g.add(Runs.of(b));
        return new WorkingSet(VERSION, snapshotId, totalPages, intervalMs, g, Runs.of(zero), null, null);
    }

    /** This record, saying which method made it and what size each method recorded. */
    public WorkingSet withMethod(String method, java.util.Map<String, Long> pagesByMethod) {
        return new WorkingSet(version, snapshotId, totalPages, sampleIntervalMs, groups, zeroPages, method,
                pagesByMethod == null ? null : new java.util.TreeMap<>(pagesByMethod));
    }

    public BitSet pages() {
        BitSet all = new BitSet();
        for (List<PageRun> group : groups) all.or(Runs.toBitSet(group));
        return all;
    }

    public long workingSetPages() {
        return pages().cardinality();
    }

    public long loadingSetPages() {
        BitSet ls = pages();
        ls.andNot(Runs.toBitSet(zeroPages));
        return ls.cardinality();
    }

    /** REAP's view: every working-set page, in file order, gaps under 32 pages merged. */
    public List<PageRun> reapRuns() {
        return Runs.of(pages(), MERGE_GAP_PAGES);
    }

    /**
     * FaaSnap's view: the loading set group by group (time order), each group's runs in file
     * order with short gaps merged. A gap over zero pages costs nothing to read (holes).
     */
    public List<PageRun> faasnapRuns() {
        return loadingRuns(MERGE_GAP_PAGES);
    }

    /** The loading set group by group, like {@link #faasnapRuns()}, with gaps under {@code mergeGapsBelow} pages merged (0: exact). */
    public List<PageRun> loadingRuns(int mergeGapsBelow) {
        BitSet zero = Runs.toBitSet(zeroPages);
        BitSet loaded = new BitSet();
        List<PageRun> out = new ArrayList<>();
        for (List<PageRun> group : groups) {
            BitSet g = Runs.toBitSet(group);
            g.andNot(zero);
            g.andNot(loaded); // a page belongs to the group that touched it first
            loaded.or(g);
            if (!g.isEmpty()) out.addAll(Runs.of(g, mergeGapsBelow));
        }
        return out;
    }

    public void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Json.write(this));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a record; null when there is none. Throws when it is unreadable. */
    public static WorkingSet read(Path f) throws IOException {
        if (!Files.exists(f)) return null;
        WorkingSet ws = Json.MAPPER.readValue(f.toFile(), WorkingSet.class);
        if (ws.version() != VERSION) throw new IOException(f + ": unsupported version " + ws.version());
        return ws;
    }
}
