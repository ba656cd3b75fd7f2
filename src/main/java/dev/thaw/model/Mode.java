package dev.thaw.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How an invocation gets its instance (docs/design.md §2 names these strategies). The daemon,
 * its clients and the reports share this one list; the wire form is {@link #id()}. Declared in
 * report order: from the slowest start to the fastest.
 */
public enum Mode {
    /** Boot a fresh VM: kernel, init, runtime, function import. The baseline. */
    COLD,
    /** Restore from the snapshot; guest memory faults in from the file on demand. */
    VANILLA,
    /** As {@link #VANILLA}, with every snapshot file already in the host page cache: the upper bound. */
    CACHED,
    /**
     * REAP as published: guest memory behind thaw's page server; the working-set file is read in
     * one sequential pass and installed with UFFDIO_COPY before the VM resumes; misses are served on demand.
     */
    REAP,
    /** thaw's earlier REAP: the working set read into the host page cache before resume; the VMM maps the file. */
    REAP_CACHE,
    /**
     * FaaSnap as published: guest memory mapped per region, the memory file private and every zero
     * region anonymous over it; the loading set is prefetched in group order while the VM starts and runs.
     */
    FAASNAP,
    /** thaw's earlier FaaSnap: one sparse copy of the memory file whose zero pages are holes; the same prefetch. */
    FAASNAP_SPARSE,
    /** Guest memory served over userfaultfd by thaw's page server: every fault one read, nothing prefetched. */
    UFFD,
    /**
     * thaw's own: guest memory over userfaultfd, the working set's zero pages installed with
     * UFFDIO_ZEROPAGE and the loading set with UFFDIO_COPY in group order, concurrently with the
     * restore and the guest's run; a fault is served at once, ahead of the install. (The pooled
     * VMMs of issue 11 are not built yet, so QEMU still starts on the critical path.)
     */
    THAW,
    /**
     * Reuse an idle running instance; when none is idle, restore one with the function's own
     * {@code restore} strategy (function.json, default {@code faasnap}).
     */
    WARM;

    /** True for the modes that restore from the snapshot. */
    public boolean restores() {
        return this != COLD && this != WARM;
    }

    /** The lowercase name used in URLs, JSON and reports. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The mode named {@code s} (case-insensitive), if there is one. */
    public static Optional<Mode> find(String s) {
        if (s == null) return Optional.empty();
        String id = s.trim().toLowerCase(Locale.ROOT);
        for (Mode m : values()) if (m.id().equals(id)) return Optional.of(m);
        return Optional.empty();
    }

    /** Parses a mode; a blank one is {@link #WARM}. An unknown one is an {@link IllegalArgumentException} listing the modes. */
    public static Mode parse(String s) {
        if (s == null || s.isBlank()) return WARM;
        return find(s).orElseThrow(() -> new IllegalArgumentException("unknown mode \"" + s + "\"; expected one of " + ids()));
    }

    /** Every mode's id, comma-separated, for error messages. */
    public static String ids() {
        return Arrays.stream(values()).map(Mode::id).collect(Collectors.joining(", "));
    }
}
