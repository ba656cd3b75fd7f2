package dev.thaw.platform;

import java.util.Locale;

/**
 * How a deploy records a snapshot's working set (docs/design.md §6). Both are run at every
 * deploy, so both sizes are reported for every function; this chooses the one restores use.
 */
public enum RecordMethod {
    /**
     * REAP's method, the default: restore through thaw's page server and log every fault. Under
     * a MISSING registration each page faults once, so the record is exactly the pages the
     * record input touched, in first-touch order with timestamps, with no fault-around or read-ahead.
     */
    UFFD,
    /** Sample the VMM's {@code /proc/PID/pagemap} every 4 ms over a file mapping: includes the kernel's fault-around. */
    PAGEMAP;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static RecordMethod parse(String s) {
        for (RecordMethod m : values()) if (m.id().equalsIgnoreCase(s.trim())) return m;
        throw new IllegalArgumentException("--record-method must be uffd or pagemap, got " + s);
    }
}
