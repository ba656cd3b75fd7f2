package dev.thaw.flow;

import java.util.Locale;

/** Human formatting of microsecond durations and fractions, shared by the renderers. */
final class Format {
    private Format() {}

    /** 850 µs, 12.3 ms, 4.21 s. */
    static String duration(long us) {
        long abs = Math.abs(us);
        if (abs < 1_000) {
            return us + " µs";
        }
        if (abs < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f ms", us / 1_000.0);
        }
        return String.format(Locale.ROOT, "%.2f s", us / 1_000_000.0);
    }

    /** "1 trace", "3 traces". */
    static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
    }
}
