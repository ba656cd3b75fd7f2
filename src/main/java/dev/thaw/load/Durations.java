package dev.thaw.load;

import java.time.Duration;
import java.util.Locale;

/**
 * Durations written as people write them: {@code 500ms}, {@code 60s}, {@code 2m}, {@code 1h},
 * {@code 90} (seconds), also {@code us}. One syntax for workload files and {@code thaw load}'s
 * options, so this is public.
 */
public final class Durations {
    private Durations() {}

    /** Parses {@code text}; IllegalArgumentException (naming it) if it is not a non-negative duration. */
    public static Duration parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        double factorNanos;
        String number;
        if (t.endsWith("ms")) {
            factorNanos = 1e6;
            number = t.substring(0, t.length() - 2);
        } else if (t.endsWith("us")) {
            factorNanos = 1e3;
            number = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            factorNanos = 1e9;
            number = t.substring(0, t.length() - 1);
        } else if (t.endsWith("m")) {
            factorNanos = 60e9;
            number = t.substring(0, t.length() - 1);
        } else if (t.endsWith("h")) {
            factorNanos = 3600e9;
            number = t.substring(0, t.length() - 1);
        } else {
            factorNanos = 1e9;
            number = t;
        }
        double value;
        try {
            value = Double.parseDouble(number.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (examples: 500ms, 60s, 2m, 1h)");
        }
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("'" + text + "' is not a non-negative duration");
        }
        return Duration.ofNanos(Math.round(value * factorNanos));
    }

    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }
}
