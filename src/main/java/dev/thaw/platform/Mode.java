package dev.thaw.platform;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How an invocation gets its instance (design.md §2 names these strategies). */
public enum Mode {
    /** Boot a fresh VM: kernel, init, runtime, function import. The baseline. */
    COLD,
    /** Reuse an idle running instance; restore one with {@link #VANILLA} if none is idle. */
    WARM,
    /** Restore from the snapshot; guest memory faults in from the file on demand. */
    VANILLA,
    /** As {@link #VANILLA}, with every snapshot file already in the host page cache: the upper bound. */
    CACHED,
    /** REAP: load the recorded working set in one sequential pass before the VM resumes. */
    REAP,
    /** FaaSnap: zero pages are holes; the loading set is prefetched in group order while the VM starts and runs. */
    FAASNAP;

    /** True for the strategies that restore from the snapshot. */
    public boolean restores() {
        return this != COLD && this != WARM;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String s) {
        if (s == null || s.isBlank()) return WARM;
        for (Mode m : values()) if (m.id().equals(s.trim().toLowerCase(Locale.ROOT))) return m;
        throw new ThawException(400, "bad_mode", "unknown mode \"" + s + "\"; expected one of "
                + Arrays.stream(values()).map(Mode::id).collect(Collectors.joining(", ")));
    }
}
