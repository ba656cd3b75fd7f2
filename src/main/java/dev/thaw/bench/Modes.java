package dev.thaw.bench;

import java.util.List;
import java.util.Map;

/**
 * The invocation modes a benchmark can ask the daemon for (docs/design.md §2), in the order reports
 * show them, with the one-sentence explanation the HTML report prints for each.
 */
public final class Modes {
    /** Report order: from the slowest start to the fastest. */
    public static final List<String> ALL = java.util.Arrays.stream(dev.thaw.model.Mode.values()).map(dev.thaw.model.Mode::id).toList();

    private static final Map<String, String> EXPLAIN = Map.of(
            "cold", "Boots a fresh VM: kernel, init, the language runtime and the function's code, with no snapshot at all — the baseline every snapshot technique tries to beat.",
            "vanilla", "Restores the VM from its memory snapshot with nothing in the host's page cache, so every page of guest memory the function touches is read from disk one fault at a time.",
            "cached", "Restores like vanilla, but the snapshot's memory file is already in the host's page cache, so no fault waits for the disk: the best a snapshot restore can do.",
            "reap", "Restores with guest memory served by thaw's page server over userfaultfd, after reading the pages the function touched when its working set was recorded from one contiguous file in one sequential pass and installing them before the VM resumes (REAP as published).",
            "reap-cache", "Restores from the snapshot after reading, in one sequential pass before the VM resumes, the recorded working set into the host's page cache, where the VM's file mapping finds it (thaw's earlier REAP).",
            "faasnap", "Restores with guest memory mapped region by region: the snapshot's memory file, with every all-zero region mapped as anonymous memory over it so zero pages are never read, while a thread loads the rest of the recorded working set into the page cache in the order it was first touched, as the VM starts and runs (FaaSnap as published).",
            "faasnap-sparse", "Restores from a copy of the memory file whose all-zero pages are holes, so they are never read from disk, with the same concurrent load of the recorded working set (thaw's earlier FaaSnap).",
            "uffd", "Restores with guest memory served by thaw's own page server over userfaultfd: every page the guest touches is one read of the memory file, nothing is prefetched — the cost of the mechanism itself.",
            "thaw", "thaw's own: guest memory over userfaultfd; the recorded working set is installed by a background thread in the order it was first touched (zero pages without any read) while the VM starts and runs, and a page the guest needs first is served at once, ahead of that queue.",
            "warm", "Sends the request to a VM that is already running and idle: no start-up cost at all, the lower bound.");

    private Modes() {}

    public static boolean known(String mode) {
        return EXPLAIN.containsKey(mode);
    }

    public static String explain(String mode) {
        return EXPLAIN.getOrDefault(mode, "A mode this version of thaw bench does not describe.");
    }

    /**
     * Modes whose runs never start by dropping the page cache, whatever the scenario says:
     * {@code warm} (the instance is already running, there is nothing to load) and {@code cached}
     * (it needs the cache warm, and the daemon makes sure it is).
     */
    public static boolean neverDrops(String mode) {
        return mode.equals("warm") || mode.equals("cached");
    }

    /** Position in {@link #ALL}; unknown modes sort last. */
    public static int order(String mode) {
        int i = ALL.indexOf(mode);
        return i < 0 ? ALL.size() : i;
    }
}
