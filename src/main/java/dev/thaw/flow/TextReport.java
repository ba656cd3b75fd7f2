package dev.thaw.flow;

import dev.thaw.common.Percentiles;
import dev.thaw.flow.FlowReport.ColdStart;
import dev.thaw.flow.FlowReport.EdgeStats;
import dev.thaw.flow.FlowReport.FunctionStats;
import dev.thaw.flow.FlowReport.Recommendation;
import dev.thaw.flow.FlowReport.TraceSummary;

import java.util.Comparator;
import java.util.List;

import static dev.thaw.flow.Format.duration;
import static dev.thaw.flow.Format.percent;

/** The report for a terminal: summary, graph, bottlenecks, cold starts, advice, slowest paths. */
public final class TextReport {
    private TextReport() {}

    public static String render(FlowReport report) {
        return render(report, 10, 3);
    }

    /**
     * @param top    rows of each ranking to show
     * @param traces how many of the slowest traces to show with their critical paths
     */
    public static String render(FlowReport report, int top, int traces) {
        StringBuilder out = new StringBuilder();
        FlowReport.Summary s = report.summary();
        out.append("thaw flow: ").append(Format.count(s.traces(), "trace")).append(", ")
                .append(Format.count(s.spans(), "span")).append(", ").append(Format.count(s.functions(), "function"))
                .append(", ").append(Format.count(s.edges(), "call edge")).append("; ")
                .append(s.asyncPolicy() == AsyncPolicy.FOLLOW
                        ? "async work that outlives its caller is followed (--async follow)"
                        : "children clipped to their parents, Jaeger UI style (--async clip)")
                .append('\n');
        if (s.traces() == 0) {
            out.append("no traces to analyse\n");
            return out.toString();
        }
        out.append("trace duration p50 ").append(duration(s.durationP50Us())).append(", p99 ")
                .append(duration(s.durationP99Us())).append(", max ").append(duration(s.durationMaxUs())).append('\n');
        FlowReport.Shape shape = s.shape();
        out.append("call trees: depth p50 ").append(shape.depthP50()).append(" (max ").append(shape.depthMax())
                .append("), fan-out p50 ").append(shape.fanOutP50()).append(" (max ").append(shape.fanOutMax())
                .append("), width p50 ").append(shape.widthP50()).append(" (max ").append(shape.widthMax()).append(")\n");

        warnings(out, report.warnings(), top);
        graph(out, report.edges(), top);
        bottlenecks(out, report.functions(), top);
        coldStarts(out, report.coldStarts(), top);
        recommendations(out, report.recommendations());
        paths(out, report.traces(), traces);
        out.append('\n').append(Percentiles.NOTE).append('\n');
        return out.toString();
    }

    private static void warnings(StringBuilder out, List<String> warnings, int top) {
        if (warnings.isEmpty()) {
            return;
        }
        out.append("\nWarnings (").append(warnings.size()).append(")\n");
        warnings.stream().limit(Math.max(top, 20)).forEach(w -> out.append("  ").append(w).append('\n'));
        if (warnings.size() > Math.max(top, 20)) {
            out.append("  … ").append(warnings.size() - Math.max(top, 20)).append(" more (--format json lists all)\n");
        }
    }

    private static void graph(StringBuilder out, List<EdgeStats> edges, int top) {
        out.append("\nDependency graph (caller -> callee; latency of the callee's invocation span)\n");
        if (edges.isEmpty()) {
            out.append("  no calls between functions\n");
            return;
        }
        TextTable table = new TextTable("CALLER", "CALLEE", ">CALLS", ">ERR%", ">P50", ">P90", ">P99", ">ON PATH");
        for (EdgeStats e : edges.stream().limit(top * 3L).toList()) {
            table.row(e.caller(), e.callee(), e.calls(), percent(e.errorRate()), duration(e.p50Us()),
                    duration(e.p90Us()), duration(e.p99Us()), e.callsOnPath() + "/" + e.calls());
        }
        table.appendTo(out, "  ");
        more(out, edges.size(), top * 3);
    }

    private static void bottlenecks(StringBuilder out, List<FunctionStats> functions, int top) {
        out.append("\nBottlenecks (functions by time on critical paths; share = part of the trace's duration)\n");
        TextTable table = new TextTable(">#", "FUNCTION", ">ON PATH", ">OF ALL", ">SHARE P50", ">SHARE P99",
                ">TRACES ON PATH", ">INVOCATIONS", ">ERR%", ">COLD ON PATH");
        for (FunctionStats f : functions.stream().limit(top).toList()) {
            table.row(f.rank(), f.function(), duration(f.pathUsTotal()), percent(f.pathShareOfTotal()),
                    percent(f.pathShareP50()), percent(f.pathShareP99()), f.tracesOnPath() + "/" + f.traces(),
                    f.invocations(), percent(f.errorRate()),
                    f.coldStartsOnPath() == 0 ? "-" : f.coldStartsOnPath() + " (" + duration(f.coldOnPathUsTotal()) + ")");
        }
        table.appendTo(out, "  ");
        more(out, functions.size(), top);
    }

    private static void coldStarts(StringBuilder out, List<ColdStart> colds, int top) {
        out.append("\nCold starts on the critical path");
        if (colds.isEmpty()) {
            out.append(": none\n");
            return;
        }
        out.append(" (").append(colds.size()).append(", largest first)\n");
        TextTable table = new TextTable("TRACE", "FUNCTION", "STRATEGY", ">RESTORE", ">ON PATH", "SOURCE");
        for (ColdStart c : colds.stream().limit(top).toList()) {
            table.row(c.traceId(), c.function(), c.strategy() == null ? "-" : c.strategy(),
                    duration(c.restoreUs()), duration(c.onPathUs()), c.source());
        }
        table.appendTo(out, "  ");
        more(out, colds.size(), top);
    }

    private static void recommendations(StringBuilder out, List<Recommendation> recommendations) {
        out.append("\nRecommendations");
        if (recommendations.isEmpty()) {
            out.append(": none (no cold start lay on a critical path)\n");
            return;
        }
        out.append(" (estimated saving = cold-start time on the critical path, p50 over the affected traces)\n");
        int i = 1;
        for (Recommendation r : recommendations) {
            String what = r.action() == FlowReport.Action.KEEP_WARM
                    ? "keep " + r.function() + " warm"
                    : "restore " + r.function() + " ahead, as soon as " + r.caller() + " is invoked";
            out.append("  ").append(i++).append(". ").append(what).append(": saves p50 ").append(duration(r.savingP50Us()))
                    .append(" in ").append(r.tracesAffected()).append(" of ").append(r.traces())
                    .append(" traces (").append(duration(r.meanSavingPerTraceUs())).append(" per trace on average)\n")
                    .append("     ").append(r.reason()).append('\n');
        }
    }

    private static void paths(StringBuilder out, List<TraceSummary> traces, int count) {
        if (count <= 0) {
            return;
        }
        List<TraceSummary> slowest = traces.stream()
                .sorted(Comparator.comparingLong(TraceSummary::durationUs).reversed().thenComparing(TraceSummary::traceId))
                .limit(count).toList();
        out.append("\nCritical paths (").append(slowest.size() == traces.size() ? "all " + Format.count(traces.size(), "trace")
                        : slowest.size() + " slowest of " + traces.size() + " traces")
                .append("; --traces N for more, --format json for all)\n");
        for (TraceSummary t : slowest) {
            out.append("  trace ").append(t.traceId()).append("  ").append(duration(t.durationUs()))
                    .append("  root ").append(String.join(", ", t.rootFunctions()))
                    .append("  depth ").append(t.depth()).append(", fan-out ").append(t.fanOut());
            if (t.gapUs() > 0) {
                out.append(", gaps ").append(duration(t.gapUs()));
            }
            out.append('\n');
            TextTable table = new TextTable(">AT", ">LENGTH", "FUNCTION", "OPERATION", "SPAN");
            for (CriticalPathSection c : t.criticalPath()) {
                table.row("+" + duration(c.startUs() - t.startUs()), duration(c.lengthUs()), c.function(),
                        c.operation(), c.spanId());
            }
            table.appendTo(out, "    ");
        }
    }

    private static void more(StringBuilder out, int size, int shown) {
        if (size > shown) {
            out.append("  … ").append(size - shown).append(" more (--top N)\n");
        }
    }
}
