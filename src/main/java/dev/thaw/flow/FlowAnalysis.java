package dev.thaw.flow;

import dev.thaw.trace.Trace;
import dev.thaw.flow.FlowReport.Action;
import dev.thaw.flow.FlowReport.ColdStart;
import dev.thaw.flow.FlowReport.EdgeStats;
import dev.thaw.flow.FlowReport.FunctionStats;
import dev.thaw.flow.FlowReport.Recommendation;
import dev.thaw.flow.FlowReport.TraceSummary;
import dev.thaw.flow.TraceAnalysis.Cold;
import dev.thaw.flow.TraceAnalysis.Invocation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Dependency-flow analysis of traces of functions that call functions.
 *
 * <p>A span's function is its service name. An <em>invocation</em> is a span that starts work in
 * a function: a root, a span whose parent runs in another function, or an {@code invoke …} span.
 * Every other span (client calls, restore phases, internal work) belongs to the invocation above
 * it, so the function-level graph collapses spans of one service: an edge caller -> callee is an
 * invocation of callee whose nearest enclosing invocation runs in caller.
 *
 * <p>Per trace the analysis ({@link TraceAnalysis}) computes the critical path
 * ({@link CriticalPath}), the call-tree shape, and the cold starts whose restore lay on the path;
 * over all traces it aggregates edge statistics, each function's share of the critical path, a
 * bottleneck ranking and warm-keeping recommendations. Usable as a library: {@code FlowAnalysis.analyze(traces)}.
 */
public final class FlowAnalysis {

    /** @param asyncPolicy how asynchronous work that outlives its caller is treated on the critical path */
    public record Options(AsyncPolicy asyncPolicy) {
        public static Options defaults() {
            return new Options(AsyncPolicy.FOLLOW);
        }
    }

    private FlowAnalysis() {}

    public static FlowReport analyze(List<Trace> traces) {
        return analyze(traces, Options.defaults());
    }

    public static FlowReport analyze(List<Trace> traces, Options options) {
        List<String> warnings = new ArrayList<>();
        List<TraceAnalysis> work = new ArrayList<>(traces.size());
        for (Trace trace : traces) {
            work.add(new TraceAnalysis(trace, options.asyncPolicy(), warnings::add));
        }
        Map<String, Long> warmP50 = warmDurationP50(work);
        List<ColdStart> coldStarts = new ArrayList<>();
        for (TraceAnalysis w : work) {
            w.findColdStarts(warmP50, coldStarts);
        }
        coldStarts.sort(Comparator.comparingLong(ColdStart::onPathUs).reversed()
                .thenComparing(ColdStart::traceId).thenComparing(ColdStart::spanId));

        List<FunctionStats> functions = functionStats(work);
        List<EdgeStats> edges = edgeStats(work);
        List<TraceSummary> summaries = work.stream().map(TraceAnalysis::summary).toList();
        return new FlowReport(summary(work, functions.size(), edges.size(), options.asyncPolicy()),
                functions, edges, summaries, List.copyOf(coldStarts), recommendations(work),
                List.copyOf(warnings));
    }

    private static Map<String, Long> warmDurationP50(List<TraceAnalysis> work) {
        Map<String, List<Long>> warm = new HashMap<>();
        for (TraceAnalysis w : work) {
            for (Invocation inv : w.invocations) {
                if (!inv.isCold()) {
                    warm.computeIfAbsent(inv.function(), f -> new ArrayList<>()).add(inv.span.durationUs());
                }
            }
        }
        Map<String, Long> p50 = new HashMap<>();
        warm.forEach((f, list) -> p50.put(f, Stats.percentile(list, 50)));
        return p50;
    }

    // ---- aggregates over the traces --------------------------------------------------------

    private static FlowReport.Summary summary(List<TraceAnalysis> work, int functions, int edges, AsyncPolicy policy) {
        long[] durations = work.stream().mapToLong(w -> w.path.durationUs()).toArray();
        int[] depths = work.stream().mapToInt(w -> w.depth).toArray();
        int[] fanOuts = work.stream().mapToInt(w -> w.fanOut).toArray();
        int[] widths = work.stream().mapToInt(w -> w.width).toArray();
        int spans = work.stream().mapToInt(w -> w.tree.spans.size()).sum();
        long pathTotal = work.stream().mapToLong(w -> w.path.pathUs()).sum();
        var shape = new FlowReport.Shape(Stats.percentileInt(depths, 50), max(depths),
                Stats.percentileInt(fanOuts, 50), max(fanOuts), Stats.percentileInt(widths, 50), max(widths));
        return new FlowReport.Summary(work.size(), spans, functions, edges, policy,
                Stats.percentile(durations, 50), Stats.percentile(durations, 99),
                Stats.percentile(durations, 100), pathTotal, shape);
    }

    private static int max(int[] values) {
        int max = 0;
        for (int v : values) {
            max = Math.max(max, v);
        }
        return max;
    }

    private static List<FunctionStats> functionStats(List<TraceAnalysis> work) {
        Set<String> names = new LinkedHashSet<>();
        work.forEach(w -> names.addAll(w.functions));
        long allDurations = work.stream().mapToLong(w -> w.path.durationUs()).sum();
        List<FunctionStats> rows = new ArrayList<>();
        for (String f : names) {
            int invocations = 0;
            int errors = 0;
            int coldStarts = 0;
            int coldOnPath = 0;
            long coldOnPathUs = 0;
            List<Long> times = new ArrayList<>();
            List<Double> shares = new ArrayList<>();
            int tracesOnPath = 0;
            for (TraceAnalysis w : work) {
                for (Invocation inv : w.invocations) {
                    if (inv.function().equals(f)) {
                        invocations++;
                        errors += inv.span.error() ? 1 : 0;
                    }
                }
                for (Cold c : w.colds) {
                    if (c.invocation().function().equals(f)) {
                        coldStarts++;
                        coldOnPath += c.onPathUs() > 0 ? 1 : 0;
                        coldOnPathUs += c.onPathUs();
                    }
                }
                if (!w.functions.contains(f)) {
                    continue;
                }
                long t = w.pathByFunction.getOrDefault(f, 0L);
                tracesOnPath += t > 0 ? 1 : 0;
                times.add(t);
                shares.add(w.path.durationUs() == 0 ? 0 : (double) t / w.path.durationUs());
            }
            double[] shareArray = shares.stream().mapToDouble(Double::doubleValue).toArray();
            long total = times.stream().mapToLong(Long::longValue).sum();
            rows.add(new FunctionStats(0, f, invocations, errors, Stats.ratio(errors, invocations),
                    times.size(), tracesOnPath, total, Stats.percentile(times, 50), Stats.percentile(times, 99),
                    Stats.round(Stats.percentile(shareArray, 50)), Stats.round(Stats.percentile(shareArray, 99)),
                    Stats.ratio(total, allDurations), coldStarts, coldOnPath, coldOnPathUs));
        }
        rows.sort(Comparator.comparingLong(FunctionStats::pathUsTotal).reversed()
                .thenComparing(Comparator.comparingDouble(FunctionStats::pathShareP50).reversed())
                .thenComparing(FunctionStats::function));
        List<FunctionStats> ranked = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            FunctionStats r = rows.get(i);
            ranked.add(new FunctionStats(i + 1, r.function(), r.invocations(), r.errors(), r.errorRate(), r.traces(),
                    r.tracesOnPath(), r.pathUsTotal(), r.pathUsP50(), r.pathUsP99(), r.pathShareP50(),
                    r.pathShareP99(), r.pathShareOfTotal(), r.coldStarts(), r.coldStartsOnPath(), r.coldOnPathUsTotal()));
        }
        return List.copyOf(ranked);
    }

    private static List<EdgeStats> edgeStats(List<TraceAnalysis> work) {
        record Key(String caller, String callee) {}
        Map<Key, List<Invocation>> calls = new LinkedHashMap<>();
        Map<Key, Integer> onPath = new HashMap<>();
        for (TraceAnalysis w : work) {
            for (Invocation inv : w.invocations) {
                if (inv.caller == null) {
                    continue;
                }
                Key key = new Key(inv.caller.function(), inv.function());
                calls.computeIfAbsent(key, k -> new ArrayList<>()).add(inv);
                if (w.onPath.contains(inv)) {
                    onPath.merge(key, 1, Integer::sum);
                }
            }
        }
        List<EdgeStats> edges = new ArrayList<>();
        calls.forEach((key, list) -> {
            long[] durations = list.stream().mapToLong(i -> i.span.durationUs()).toArray();
            int errors = (int) list.stream().filter(i -> i.span.error()).count();
            edges.add(new EdgeStats(key.caller, key.callee, list.size(), errors, Stats.ratio(errors, list.size()),
                    Stats.percentile(durations, 50), Stats.percentile(durations, 90), Stats.percentile(durations, 99),
                    onPath.getOrDefault(key, 0)));
        });
        edges.sort(Comparator.comparingInt(EdgeStats::calls).reversed()
                .thenComparing(EdgeStats::caller).thenComparing(EdgeStats::callee));
        return List.copyOf(edges);
    }

    /**
     * For each function whose cold starts lay on critical paths: keep it warm, or restore it when
     * its caller starts if the caller typically runs long enough before the call to hide the
     * restore. The estimated saving is the cold-start time on the path at p50 over the traces it
     * affected.
     */
    private static List<Recommendation> recommendations(List<TraceAnalysis> work) {
        Map<String, List<Long>> perTrace = new TreeMap<>();     // function -> cold time on path, per affected trace
        Map<String, List<Long>> leads = new HashMap<>();         // function -> caller start to call, per cold call on path
        Map<String, Map<String, Integer>> callers = new HashMap<>();
        Map<String, Integer> entryColds = new HashMap<>();       // cold starts on the path with no caller
        Map<String, Integer> tracesWith = new HashMap<>();
        for (TraceAnalysis w : work) {
            w.functions.forEach(f -> tracesWith.merge(f, 1, Integer::sum));
            Map<String, Long> sum = new HashMap<>();
            for (Cold c : w.colds) {
                if (c.onPathUs() <= 0) {
                    continue;
                }
                String f = c.invocation().function();
                sum.merge(f, c.onPathUs(), Long::sum);
                Invocation caller = c.invocation().caller;
                if (caller == null) {
                    entryColds.merge(f, 1, Integer::sum);
                } else {
                    leads.computeIfAbsent(f, k -> new ArrayList<>()).add(c.invocation().span.startUs() - caller.span.startUs());
                    callers.computeIfAbsent(f, k -> new TreeMap<>()).merge(caller.function(), 1, Integer::sum);
                }
            }
            sum.forEach((f, us) -> perTrace.computeIfAbsent(f, k -> new ArrayList<>()).add(us));
        }
        List<Recommendation> result = new ArrayList<>();
        perTrace.forEach((f, list) -> {
            int traces = tracesWith.getOrDefault(f, list.size());
            long p50 = Stats.percentile(list, 50);
            long p99 = Stats.percentile(list, 99);
            long mean = list.stream().mapToLong(Long::longValue).sum() / Math.max(1, traces);
            List<Long> leadList = leads.getOrDefault(f, List.of());
            long lead = Stats.percentile(leadList, 50);
            String caller = callers.getOrDefault(f, Map.of()).entrySet().stream()
                    .max(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder())))
                    .map(Map.Entry::getKey).orElse(null);
            boolean mostlyCalled = leadList.size() > entryColds.getOrDefault(f, 0);
            String seen = String.format(Locale.ROOT, "cold on the critical path in %d of %d traces, adding p50 %s (p99 %s)",
                    list.size(), traces, Format.duration(p50), Format.duration(p99));
            Action action;
            String reason;
            if (mostlyCalled && lead >= p50) {
                action = Action.RESTORE_AHEAD;
                reason = seen + "; " + caller + " calls it p50 " + Format.duration(lead)
                        + " after starting, enough to hide the restore if it begins when " + caller + " is invoked";
            } else {
                action = Action.KEEP_WARM;
                reason = mostlyCalled
                        ? seen + "; its callers call it p50 " + Format.duration(lead)
                          + " after starting, too soon to hide the restore (restoring ahead would save at most that)"
                        : seen + "; it is an entry function, so nothing runs before it to hide a restore";
                if (!mostlyCalled) {
                    caller = null;
                }
            }
            result.add(new Recommendation(f, action, action == Action.RESTORE_AHEAD ? caller : null,
                    list.size(), traces, p50, p99, mean, mostlyCalled ? lead : 0, reason));
        });
        result.sort(Comparator.comparingLong(Recommendation::meanSavingPerTraceUs).reversed()
                .thenComparing(Comparator.comparingLong(Recommendation::savingP50Us).reversed())
                .thenComparing(Recommendation::function));
        return List.copyOf(result);
    }
}
