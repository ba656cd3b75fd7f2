package dev.thaw.load;

/** The daemon's {@code cold_start} field: how the instance that served a request came to be. */
enum ColdStart {
    /** {@code null} or absent: a warm instance served it. */
    NONE(null),
    COLD("cold"),
    VANILLA("vanilla"),
    CACHED("cached"),
    REAP("reap"),
    FAASNAP("faasnap"),
    /** A strategy name this generator does not know; counted, not lost. */
    OTHER("other");

    private static final ColdStart[] VALUES = values();
    final String label;

    ColdStart(String label) {
        this.label = label;
    }

    static ColdStart fromOrdinal(int ordinal) {
        return VALUES[ordinal];
    }

    /** The strategy named by the bytes [start, end), compared without allocating. */
    static ColdStart of(byte[] b, int start, int end) {
        for (int k = 1; k < VALUES.length - 1; k++) {
            String name = VALUES[k].label;
            if (name.length() == end - start) {
                int i = 0;
                while (i < name.length() && b[start + i] == name.charAt(i)) {
                    i++;
                }
                if (i == name.length()) {
                    return VALUES[k];
                }
            }
        }
        return OTHER;
    }
}
