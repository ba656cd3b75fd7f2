package dev.thaw.load;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import java.io.PrintStream;
import java.util.Locale;

/** The statistics of a schedule, for {@code --dry-run}: what would be sent, and when. */
final class DryRun {
    private static final int MAX_MINUTE_ROWS = 60;

    final Schedule schedule;
    final long[] perMinute;
    final long peakPerSecond;
    final double peakSecondAt;

    DryRun(Schedule schedule) {
        this.schedule = schedule;
        int minutes = (int) Math.max(1, Math.ceil(schedule.spanNanos / 60e9));
        perMinute = new long[minutes];
        long peak = 0;
        double peakAt = 0;
        int windowStart = 0;
        for (int i = 0; i < schedule.size(); i++) {
            perMinute[Math.min(minutes - 1, (int) (schedule.at[i] / 60_000_000_000L))]++;
            // Sliding one-second window ending at invocation i.
            while (schedule.at[i] - schedule.at[windowStart] >= 1_000_000_000L) {
                windowStart++;
            }
            if (i - windowStart + 1 > peak) {
                peak = i - windowStart + 1;
                peakAt = schedule.at[windowStart] / 1e9;
            }
        }
        peakPerSecond = peak;
        peakSecondAt = peakAt;
    }

    void print(PrintStream out, Workload w, Source.Generated gen) {
        double span = schedule.spanNanos / 1e9;
        out.println(String.format(Locale.ROOT, "workload %s: %d function(s), %d invocation(s) over %.1f s (speed %s, rate scale %s, seed %d)",
                w.name(), schedule.functions.size(), schedule.size(), span, num(w.speed()), num(w.rateScale()), w.seed()));
        for (String note : gen.notes()) {
            out.println("  " + note);
        }
        out.println(String.format(Locale.ROOT, "mean rate %.2f/s, peak %d in one second (at %.1f s), peak minute %d",
                span > 0 ? schedule.size() / span : 0, peakPerSecond, peakSecondAt, max(perMinute)));
        out.println();
        out.println(String.format(Locale.ROOT, "%-20s %-14s %10s %10s %12s %10s", "function", "target", "count", "rate/s", "median ms", "mean MiB"));
        for (int f = 0; f < schedule.functions.size(); f++) {
            LoadFunction fn = schedule.functions.get(f);
            long count = 0;
            long mem = 0;
            for (int i = 0; i < schedule.size(); i++) {
                if (schedule.function[i] == f) {
                    count++;
                    mem += schedule.memoryMib[i];
                }
            }
            out.println(String.format(Locale.ROOT, "%-20s %-14s %10d %10.2f %12d %10.1f", shorten(fn.source(), 20),
                    shorten(fn.target(), 14), count, span > 0 ? count / span : 0, fn.medianDurationMs(),
                    count == 0 ? 0.0 : (double) mem / count));
        }
        out.println();
        out.println("minute  invocations  rate/s");
        for (int m = 0; m < perMinute.length && m < MAX_MINUTE_ROWS; m++) {
            double len = Math.min(60.0, span - 60.0 * m);
            out.println(String.format(Locale.ROOT, "%6d  %11d  %6.2f", m, perMinute[m], len > 0 ? perMinute[m] / len : 0));
        }
        if (perMinute.length > MAX_MINUTE_ROWS) {
            out.println("  … " + (perMinute.length - MAX_MINUTE_ROWS) + " more minute(s); --json has them all");
        }
    }

    ObjectNode toJson(ObjectNode workload) {
        ObjectNode root = Json.object();
        root.set("workload", workload);
        ObjectNode d = root.putObject("dry_run");
        d.put("functions", schedule.functions.size());
        d.put("invocations", schedule.size());
        d.put("duration_s", schedule.spanNanos / 1e9);
        d.put("mean_rps", schedule.spanNanos > 0 ? schedule.size() / (schedule.spanNanos / 1e9) : 0);
        d.put("peak_rps", peakPerSecond);
        var pm = d.putArray("per_minute");
        for (long c : perMinute) {
            pm.add(c);
        }
        return root;
    }

    private static long max(long[] a) {
        long m = 0;
        for (long v : a) {
            m = Math.max(m, v);
        }
        return m;
    }

    private static String num(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String shorten(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }
}
