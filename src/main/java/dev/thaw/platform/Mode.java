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
    VANILLA;

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
