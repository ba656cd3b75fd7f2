package dev.thaw.load;

import java.time.Duration;
import java.util.Locale;

/** Durations written as people write them: {@code 500ms}, {@code 60s}, {@code 2m}, {@code 1h}, {@code 90} (seconds). */
final class Durations {
    private Durations() {}

    static Duration parse(String text) {
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

    /** Picocli converter for options that take a duration. */
    static final class Converter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parse(value);
        }
    }
}
