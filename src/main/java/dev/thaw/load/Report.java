package dev.thaw.load;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.common.Percentiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What a run did, computed from the per-invocation {@link Results} after the run: the summary
 * table, the JSON report and the per-invocation CSV. Latency counts answered 2xx invocations,
 * from scheduled time to the complete answer; schedule lag counts every sent invocation.
 *
 * <p>Percentiles come from HdrHistograms (microseconds, 3 significant digits), whose
 * {@code getValueAtPercentile} is the nearest rank — thaw's one definition,
 * {@link Percentiles} — so they are what bench and flow would report for the same values, up to
 * the histogram's precision (exact below 2.048 ms, else the top of a bucket 0.1% wide). Both
 * outputs say so.
 */
final class Report {
    private static final long HIGHEST_MICROS = 3_600_000_000L;

    /** Counters and histograms of one group of invocations (one function, or all). */
    static final class Stats {
        final String name;
        final String target;
        long scheduled;
        long sent;
        long ok;
        long rejected;
        long httpErrors;
        long failed;
        long notSent;
        final TreeMap<Integer, Long> byStatus = new TreeMap<>();
        final TreeMap<String, Long> failures = new TreeMap<>();
        final TreeMap<String, Long> errorCodes = new TreeMap<>();
        final EnumMap<ColdStart, Long> coldStarts = new EnumMap<>(ColdStart.class);
        final Histogram latency = new Histogram(HIGHEST_MICROS, 3);
        final Histogram lag = new Histogram(HIGHEST_MICROS, 3);

        Stats(String name, String target) {
            this.name = name;
            this.target = target;
        }

        long answered() {
            return ok + rejected + httpErrors;
        }

        long errors() {
            return httpErrors + failed;
        }

        long coldStartCount() {
            long c = 0;
            for (var e : coldStarts.entrySet()) {
                if (e.getKey() != ColdStart.NONE) {
                    c += e.getValue();
                }
            }
            return c;
        }

        double coldStartFraction() {
            return ok == 0 ? 0 : (double) coldStartCount() / ok;
        }
    }

    final Schedule schedule;
    final Results results;
    final double durationSeconds;
    final double elapsedSeconds;
    final Stats total = new Stats("TOTAL", "");
    final List<Stats> perFunction = new ArrayList<>();
    /** What the daemon spent per deployed function during the run ({@link DaemonStats}); empty when unknown. */
    Map<String, DaemonStats.Cost> daemon = Map.of();

    void daemonCost(Map<String, DaemonStats.Cost> cost) {
        this.daemon = cost;
    }

    /** The daemon's cost for the functions this run targeted, summed. */
    DaemonStats.Cost daemonTotal() {
        DaemonStats.Cost t = DaemonStats.Cost.ZERO;
        for (String target : targets()) t = t.plus(daemon.getOrDefault(target, DaemonStats.Cost.ZERO));
        return t;
    }

    private java.util.SortedSet<String> targets() {
        java.util.SortedSet<String> out = new java.util.TreeSet<>();
        for (Stats s : perFunction) out.add(s.target);
        return out;
    }

    Report(Schedule schedule, Results results, long elapsedNanos) {
        this.schedule = schedule;
        this.results = results;
        this.durationSeconds = schedule.spanNanos / 1e9;
        this.elapsedSeconds = Math.max(elapsedNanos, 1) / 1e9;
        for (LoadFunction f : schedule.functions) {
            perFunction.add(new Stats(f.source(), f.target()));
        }
        for (int i = 0; i < results.size(); i++) {
            add(total, i);
            add(perFunction.get(schedule.function[i]), i);
        }
    }

    private void add(Stats s, int i) {
        s.scheduled++;
        Outcome o = results.outcome(i);
        if (results.sent[i] >= 0 && o != Outcome.NOT_SENT) {
            s.sent++;
            s.lag.recordValue(clamp((results.sent[i] - schedule.at[i]) / 1000));
        }
        switch (o) {
            case OK -> {
                s.ok++;
                s.latency.recordValue(clamp((results.done[i] - schedule.at[i]) / 1000));
                s.coldStarts.merge(ColdStart.fromOrdinal(results.coldStart[i]), 1L, Long::sum);
            }
            case REJECTED -> s.rejected++;
            case HTTP_ERROR -> s.httpErrors++;
            case FAILED -> {
                s.failed++;
                s.failures.merge(Failure.VALUES[results.failure[i]].label, 1L, Long::sum);
            }
            case NOT_SENT -> s.notSent++;
            case PENDING -> throw new IllegalStateException("invocation " + i + " never ended");
        }
        if (o == Outcome.OK || o == Outcome.REJECTED || o == Outcome.HTTP_ERROR) {
            s.byStatus.merge((int) results.status[i], 1L, Long::sum);
            if (o != Outcome.OK && results.detail[i] != null) {
                s.errorCodes.merge(results.detail[i], 1L, Long::sum);
            }
        }
    }

    private static long clamp(long micros) {
        return Math.min(HIGHEST_MICROS, Math.max(0, micros));
    }

    /** Every scheduled invocation is accounted for exactly once. */
    boolean balanced() {
        return total.ok + total.rejected + total.httpErrors + total.failed + total.notSent == total.scheduled
                && total.scheduled == results.size();
    }

    double offeredRps(Stats s) {
        return durationSeconds > 0 ? s.scheduled / durationSeconds : 0;
    }

    double achievedRps(Stats s) {
        return s.answered() / elapsedSeconds;
    }

    // ---------------------------------------------------------------- table

    void printTable(PrintStream out) {
        String head = String.format(Locale.ROOT, "%-14s %-12s %8s %8s %7s %7s %7s %6s %7s %8s %8s %8s %8s %8s %9s %9s",
                "function", "target", "count", "ok", "429", "errors", "cold", "cold%", "notsent",
                "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "offered/s", "achieved/s");
        out.println(head);
        List<Stats> rows = new ArrayList<>(perFunction);
        if (rows.size() > 1) {
            rows.add(total);
        }
        for (Stats s : rows) {
            out.println(String.format(Locale.ROOT, "%-14s %-12s %8d %8d %7d %7d %7d %6.1f %7d %8s %8s %8s %8s %8s %9.1f %9.1f",
                    shorten(s.name, 14), shorten(s.target, 12), s.scheduled, s.ok, s.rejected, s.errors(),
                    s.coldStartCount(), 100 * s.coldStartFraction(), s.notSent, ms(s.latency, 50), ms(s.latency, 90), ms(s.latency, 99),
                    ms(s.latency, 99.9), s.latency.getTotalCount() == 0 ? "-" : fmt(s.latency.getMaxValue() / 1000.0),
                    offeredRps(s), achievedRps(s)));
        }
        printDaemonCost(out);
        out.println();
        out.println(String.format(Locale.ROOT,
                "%d scheduled over %.1f s, %d sent, answered in %.1f s: %d ok, %d rejected (429), %d HTTP errors, %d failed, %d not sent",
                total.scheduled, durationSeconds, total.sent, elapsedSeconds, total.ok, total.rejected,
                total.httpErrors, total.failed, total.notSent));
        out.println(String.format(Locale.ROOT, "rate: offered %.1f/s, achieved %.1f/s", offeredRps(total), achievedRps(total)));
        out.println(String.format(Locale.ROOT,
                "schedule lag (sent - scheduled): p50 %s  p90 %s  p99 %s  p99.9 %s  max %s ms",
                ms(total.lag, 50), ms(total.lag, 90), ms(total.lag, 99), ms(total.lag, 99.9),
                total.lag.getTotalCount() == 0 ? "-" : fmt(total.lag.getMaxValue() / 1000.0)));
        if (!total.byStatus.isEmpty()) {
            out.println("status codes: " + total.byStatus);
        }
        if (!total.failures.isEmpty()) {
            out.println("failures: " + total.failures);
        }
        if (!total.errorCodes.isEmpty()) {
            out.println("error codes: " + total.errorCodes);
        }
        long cold = total.coldStartCount();
        if (cold > 0) {
            Map<String, Long> byStrategy = new TreeMap<>();
            total.coldStarts.forEach((k, v) -> {
                if (k != ColdStart.NONE) {
                    byStrategy.put(k.label, v);
                }
            });
            out.println(String.format(Locale.ROOT, "cold starts: %d (%.1f%% of ok) %s", cold,
                    100 * total.coldStartFraction(), byStrategy));
        }
        if (total.notSent > 0) {
            out.println(String.format(Locale.ROOT, "run aborted: %d invocation(s) not sent", total.notSent));
        } else if (total.scheduled > 0 && achievedRps(total) < 0.9 * offeredRps(total)) {
            out.println(String.format(Locale.ROOT, "WARNING: achieved rate is %.0f%% of the offered rate",
                    100 * achievedRps(total) / offeredRps(total)));
        }
        if (!balanced()) {
            out.println("WARNING: accounting does not balance — this is a bug");
        }
        out.println(Percentiles.NOTE + "; " + PRECISION);
    }

    /** Per targeted daemon function: the restores and idle memory-time the daemon spent during the run. */
    private void printDaemonCost(PrintStream out) {
        if (daemon.isEmpty()) return;
        out.println();
        out.println(String.format(Locale.ROOT, "%-26s %9s %8s %8s %12s %12s", "daemon function", "restores", "queued",
                "boots", "idle inst·s", "idle GiB·s"));
        List<String> rows = new ArrayList<>(targets());
        if (rows.size() > 1) rows.add("TOTAL");
        for (String t : rows) {
            DaemonStats.Cost c = t.equals("TOTAL") ? daemonTotal() : daemon.getOrDefault(t, DaemonStats.Cost.ZERO);
            out.println(String.format(Locale.ROOT, "%-26s %9d %8d %8d %12.1f %12.2f", shorten(t, 26), c.restores(), c.queued(),
                    c.boots(), c.idleInstanceSeconds(), c.idleMibSeconds() / 1024));
        }
    }

    /** The histograms' resolution, as the reports state it. */
    static final String PRECISION = "recorded in µs to 3 significant digits (HdrHistogram)";

    private static String shorten(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }

    private static String ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? "-" : fmt(h.getValueAtPercentile(percentile) / 1000.0);
    }

    private static String fmt(double ms) {
        return ms < 10 ? String.format(Locale.ROOT, "%.3f", ms) : String.format(Locale.ROOT, "%.1f", ms);
    }

    // ---------------------------------------------------------------- JSON

    ObjectNode toJson(ObjectNode workload) {
        ObjectNode root = Json.object();
        root.set("workload", workload);
        root.put("percentiles", Percentiles.DEFINITION);
        root.put("percentile_precision", PRECISION);
        ObjectNode summary = stats(total);
        summary.put("duration_s", durationSeconds);
        summary.put("elapsed_s", elapsedSeconds);
        summary.put("balanced", balanced());
        root.set("summary", summary);
        ObjectNode fns = root.putObject("functions");
        for (Stats s : perFunction) {
            ObjectNode f = stats(s);
            f.put("target", s.target);
            fns.set(s.name, f);
        }
        root.put("cold_start_fraction", total.coldStartFraction());
        if (!daemon.isEmpty()) {
            ObjectNode d = root.putObject("daemon");
            ObjectNode per = d.putObject("functions");
            for (String t : targets()) per.set(t, DaemonStats.toJson(daemon.getOrDefault(t, DaemonStats.Cost.ZERO)));
            d.set("total", DaemonStats.toJson(daemonTotal()));
            summary.put("restores", daemonTotal().restores());
            summary.put("idle_mib_s", daemonTotal().idleMibSeconds());
        }
        var minutes = root.putArray("per_minute");
        int count = (int) Math.ceil(Math.max(durationSeconds, elapsedSeconds) / 60.0);
        long[] scheduled = new long[Math.max(count, 1)];
        long[] sent = new long[scheduled.length];
        for (int i = 0; i < results.size(); i++) {
            scheduled[Math.min(scheduled.length - 1, (int) (schedule.at[i] / 60_000_000_000L))]++;
            if (results.sent[i] >= 0) {
                sent[Math.min(sent.length - 1, (int) Math.max(0, results.sent[i] / 60_000_000_000L))]++;
            }
        }
        for (int m = 0; m < scheduled.length; m++) {
            minutes.addObject().put("minute", m).put("scheduled", scheduled[m]).put("sent", sent[m]);
        }
        return root;
    }

    private ObjectNode stats(Stats s) {
        ObjectNode o = Json.object();
        o.put("scheduled", s.scheduled);
        o.put("sent", s.sent);
        o.put("ok", s.ok);
        o.put("rejected", s.rejected);
        o.put("errors", s.errors());
        o.put("http_errors", s.httpErrors);
        o.put("failed", s.failed);
        o.put("not_sent", s.notSent);
        ObjectNode statuses = o.putObject("status_codes");
        s.byStatus.forEach((k, v) -> statuses.put(String.valueOf(k), v));
        ObjectNode failures = o.putObject("failures");
        s.failures.forEach(failures::put);
        ObjectNode codes = o.putObject("error_codes");
        s.errorCodes.forEach(codes::put);
        o.put("offered_rps", offeredRps(s));
        o.put("achieved_rps", achievedRps(s));
        o.put("ok_rps", s.ok / elapsedSeconds);
        o.set("latency_ms", percentiles(s.latency));
        o.set("schedule_lag_ms", percentiles(s.lag));
        ObjectNode cold = o.putObject("cold_starts");
        for (ColdStart c : ColdStart.values()) {
            if (c != ColdStart.NONE) {
                cold.put(c.label, s.coldStarts.getOrDefault(c, 0L));
            }
        }
        o.put("cold_start_fraction", s.coldStartFraction());
        o.put("cold_start_ratio", s.coldStartFraction());
        return o;
    }

    private static ObjectNode percentiles(Histogram h) {
        ObjectNode o = Json.object();
        o.put("count", h.getTotalCount());
        boolean empty = h.getTotalCount() == 0;
        o.put("p50", empty ? 0 : h.getValueAtPercentile(50) / 1000.0);
        o.put("p90", empty ? 0 : h.getValueAtPercentile(90) / 1000.0);
        o.put("p99", empty ? 0 : h.getValueAtPercentile(99) / 1000.0);
        o.put("p999", empty ? 0 : h.getValueAtPercentile(99.9) / 1000.0);
        o.put("max", empty ? 0 : h.getMaxValue() / 1000.0);
        o.put("mean", empty ? 0 : h.getMean() / 1000.0);
        return o;
    }

    // ---------------------------------------------------------------- CSV

    void writeCsv(Path file) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("index,scheduled_ms,sent_ms,function,target,outcome,status,latency_ms,schedule_lag_ms,cold_start,instance,reason,detail\n");
            StringBuilder line = new StringBuilder(256);
            for (int i = 0; i < results.size(); i++) {
                LoadFunction f = schedule.functions.get(schedule.function[i]);
                Outcome o = results.outcome(i);
                boolean sent = results.sent[i] >= 0 && o != Outcome.NOT_SENT;
                boolean answered = o == Outcome.OK || o == Outcome.REJECTED || o == Outcome.HTTP_ERROR;
                line.setLength(0);
                line.append(i).append(',')
                        .append(millis(schedule.at[i])).append(',')
                        .append(sent ? millis(results.sent[i]) : "").append(',')
                        .append(csv(f.source())).append(',')
                        .append(csv(f.target())).append(',')
                        .append(o.name().toLowerCase(Locale.ROOT)).append(',')
                        .append(answered ? String.valueOf(results.status[i]) : "").append(',')
                        .append(results.done[i] >= 0 ? millis(results.done[i] - schedule.at[i]) : "").append(',')
                        .append(sent ? millis(results.sent[i] - schedule.at[i]) : "").append(',')
                        .append(answered ? coldLabel(results.coldStart[i]) : "").append(',')
                        .append(results.instance != null && results.instance[i] != null ? csv(results.instance[i]) : "").append(',')
                        .append(o == Outcome.FAILED ? Failure.VALUES[results.failure[i]].label : "").append(',')
                        .append(results.detail[i] != null ? csv(results.detail[i]) : "")
                        .append('\n');
                w.append(line);
            }
        }
    }

    private static String coldLabel(byte ordinal) {
        ColdStart c = ColdStart.fromOrdinal(ordinal);
        return c == ColdStart.NONE ? "" : c.label;
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    private static String csv(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"").replace("\n", " ") + '"';
    }
}
