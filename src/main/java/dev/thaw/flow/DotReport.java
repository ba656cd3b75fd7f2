package dev.thaw.flow;

import dev.thaw.flow.FlowReport.EdgeStats;
import dev.thaw.flow.FlowReport.FunctionStats;

import java.util.Locale;

import static dev.thaw.flow.Format.duration;
import static dev.thaw.flow.Format.percent;

/**
 * The function-level dependency graph in Graphviz DOT. Nodes are filled by their critical-path
 * share (white to red); edges whose calls were mostly on a critical path are drawn red, and edge
 * width grows with the call count. Render with {@code dot -Tsvg flow.dot > flow.svg}.
 */
public final class DotReport {
    private DotReport() {}

    public static String render(FlowReport report) {
        FlowReport.Summary s = report.summary();
        StringBuilder out = new StringBuilder();
        out.append("digraph flow {\n");
        out.append("  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, label=")
                .append(quote("thaw flow: " + s.traces() + " traces, p50 " + duration(s.durationP50Us())
                        + ", p99 " + duration(s.durationP99Us())))
                .append("];\n");
        out.append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n");
        out.append("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for (FunctionStats f : report.functions()) {
            String label = f.function() + "\n" + f.invocations() + " invocations, " + percent(f.errorRate()) + " errors"
                    + "\ncritical path share p50 " + percent(f.pathShareP50()) + ", p99 " + percent(f.pathShareP99())
                    + (f.coldStartsOnPath() > 0
                       ? "\n" + f.coldStartsOnPath() + " cold starts on path (" + duration(f.coldOnPathUsTotal()) + ")"
                       : "");
            out.append("  ").append(quote(f.function())).append(" [label=").append(quote(label))
                    .append(", fillcolor=").append(quote(Palette.heat(f.pathShareP50())))
                    .append(f.rank() == 1 && f.pathUsTotal() > 0 ? ", penwidth=2" : "")
                    .append("];\n");
        }
        int maxCalls = report.edges().stream().mapToInt(EdgeStats::calls).max().orElse(1);
        for (EdgeStats e : report.edges()) {
            boolean onPath = 2L * e.callsOnPath() > e.calls();
            String label = e.calls() + " calls" + (e.errors() > 0 ? ", " + percent(e.errorRate()) + " errors" : "")
                    + "\np50 " + duration(e.p50Us()) + ", p90 " + duration(e.p90Us()) + ", p99 " + duration(e.p99Us());
            out.append("  ").append(quote(e.caller())).append(" -> ").append(quote(e.callee()))
                    .append(" [label=").append(quote(label))
                    .append(", penwidth=").append(String.format(Locale.ROOT, "%.1f", 1 + 3.0 * e.calls() / maxCalls))
                    .append(", color=").append(quote(onPath ? Palette.PATH : Palette.OFF_PATH))
                    .append("];\n");
        }
        out.append("}\n");
        return out.toString();
    }

    /** A DOT double-quoted string; newlines become DOT's centred line breaks. */
    static String quote(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
