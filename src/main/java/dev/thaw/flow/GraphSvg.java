package dev.thaw.flow;

import dev.thaw.flow.FlowReport.EdgeStats;
import dev.thaw.flow.FlowReport.FunctionStats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.thaw.flow.Format.duration;
import static dev.thaw.flow.Format.percent;
import static dev.thaw.flow.Markup.clip;
import static dev.thaw.flow.Markup.esc;
import static dev.thaw.flow.Markup.num;
import static dev.thaw.flow.Markup.text;

/**
 * The HTML report's dependency graph, as inline SVG: functions as boxes where {@link GraphLayout}
 * puts them (callers left of callees, root functions first in the order), filled by their share
 * of the critical path; calls as curves from caller to callee (self-calls as loops, calls back to
 * an earlier column arcing over the others), red where most calls lay on the critical path and
 * wider with more calls. Each call's counts and latency sit in a label box drawn last, over the
 * curves and boxes, so that it stays legible. Details are in SVG titles, shown on hover.
 */
final class GraphSvg {
    private GraphSvg() {}

    static void draw(StringBuilder h, FlowReport report) {
        h.append("<h2>Dependency graph</h2>\n<p class=\"legend\">Functions as boxes, filled by their share of the "
                + "critical path at p50 (white: none, red: most). Arrows go from caller to callee; red arrows were on "
                + "the critical path in most calls; width grows with the number of calls. Hover for details.</p>\n");
        List<String> nodes = new ArrayList<>();
        Set<String> roots = new LinkedHashSet<>();
        report.traces().forEach(t -> roots.addAll(t.rootFunctions()));
        nodes.addAll(roots);
        report.functions().forEach(f -> {
            if (!roots.contains(f.function())) {
                nodes.add(f.function());
            }
        });
        List<List<String>> edgeList = report.edges().stream().map(e -> List.of(e.caller(), e.callee())).toList();
        GraphLayout layout = new GraphLayout(nodes, edgeList);
        Map<String, FunctionStats> stats = new HashMap<>();
        report.functions().forEach(f -> stats.put(f.function(), f));

        int w = GraphLayout.NODE_W;
        int nh = GraphLayout.NODE_H;
        h.append("<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(layout.width)
                .append("\" height=\"").append(layout.height).append("\" viewBox=\"0 0 ").append(layout.width).append(' ')
                .append(layout.height).append("\" role=\"img\" aria-label=\"function dependency graph\">\n");
        h.append("<defs>\n");
        marker(h, "arrow-path", Palette.PATH);
        marker(h, "arrow-off", Palette.OFF_PATH);
        h.append("</defs>\n");

        int maxCalls = report.edges().stream().mapToInt(EdgeStats::calls).max().orElse(1);
        StringBuilder labels = new StringBuilder();
        for (EdgeStats e : report.edges()) {
            GraphLayout.Point a = layout.positions.get(e.caller());
            GraphLayout.Point b = layout.positions.get(e.callee());
            boolean onPath = 2L * e.callsOnPath() > e.calls();
            String colour = onPath ? Palette.PATH : Palette.OFF_PATH;
            double width = 1.2 + 3.5 * e.calls() / maxCalls;
            String d;
            double lx;
            double ly;
            if (e.caller().equals(e.callee())) {
                int x = a.x() + w;
                int y = a.y() + 12;
                d = "M" + (x - 40) + "," + a.y() + " C" + (x - 30) + "," + (a.y() - 36) + " " + (x + 30) + ","
                        + (y - 30) + " " + x + "," + y;
                lx = x + 8;
                ly = a.y() - 22;
            } else if (layout.layer.get(e.callee()) > layout.layer.get(e.caller())) {
                double sx = a.x() + w;
                double sy = a.y() + nh / 2.0;
                double ex = b.x();
                double ey = b.y() + nh / 2.0;
                double mx = (sx + ex) / 2;
                d = "M" + num(sx) + "," + num(sy) + " C" + num(mx) + "," + num(sy) + " " + num(mx) + "," + num(ey)
                        + " " + num(ex) + "," + num(ey);
                // Label at 60% along the curve: there, edges fanning out of one caller are already
                // spread apart vertically, and the label still sits between the two columns.
                double t = 0.6;
                double towardEnd = 3 * (1 - t) * t * t + t * t * t;
                lx = sx + (ex - sx) * (1.5 * t * (1 - t) + t * t * t);
                ly = sy + (ey - sy) * towardEnd;
            } else {
                // A call back to an earlier column (recursion across functions): from the callee's
                // left side to the caller's right side, arcing upwards over the forward edges.
                double sx = a.x();
                double sy = a.y() + 14;
                double ex = b.x() + w;
                double ey = b.y() + 14;
                double c1x = sx - 70;
                double c2x = ex + 70;
                double cy = Math.min(sy, ey) - 56;
                d = "M" + num(sx) + "," + num(sy) + " C" + num(c1x) + "," + num(cy) + " " + num(c2x) + "," + num(cy)
                        + " " + num(ex) + "," + num(ey);
                lx = 0.125 * sx + 0.375 * c1x + 0.375 * c2x + 0.125 * ex;
                ly = 0.125 * sy + 0.75 * cy + 0.125 * ey;
            }
            h.append("<path d=\"").append(d).append("\" fill=\"none\" stroke=\"").append(colour)
                    .append("\" stroke-width=\"").append(num(width)).append("\" stroke-opacity=\"0.85\" marker-end=\"url(#")
                    .append(onPath ? "arrow-path" : "arrow-off").append(")\"><title>")
                    .append(esc(e.caller() + " → " + e.callee() + ": " + e.calls() + " calls, " + e.errors() + " errors ("
                            + percent(e.errorRate()) + "), p50 " + duration(e.p50Us()) + ", p90 " + duration(e.p90Us())
                            + ", p99 " + duration(e.p99Us()) + ", on the critical path in " + e.callsOnPath() + " calls"))
                    .append("</title></path>\n");
            String line1 = Format.count(e.calls(), "call") + (e.errors() > 0 ? " · " + percent(e.errorRate()) + " err" : "");
            String line2 = "p50 " + duration(e.p50Us()) + " · p99 " + duration(e.p99Us());
            int boxW = (int) (Math.max(line1.length(), line2.length()) * 6.3) + 10;
            labels.append("<g><rect x=\"").append(num(lx - boxW / 2.0)).append("\" y=\"").append(num(ly - 15))
                    .append("\" width=\"").append(boxW).append("\" height=\"30\" rx=\"4\" fill=\"#fff\" fill-opacity=\"0.92\" stroke=\"")
                    .append(colour).append("\" stroke-width=\"0.6\"/>")
                    .append(text(lx, ly - 2, "middle", 11, e.errors() > 0 ? "#b03a2e" : "#333", false, line1))
                    .append(text(lx, ly + 11, "middle", 11, "#333", false, line2))
                    .append("</g>\n");
        }
        for (String n : nodes) {
            GraphLayout.Point p = layout.positions.get(n);
            FunctionStats f = stats.get(n);
            h.append("<g><rect x=\"").append(p.x()).append("\" y=\"").append(p.y()).append("\" width=\"").append(w)
                    .append("\" height=\"").append(nh).append("\" rx=\"9\" fill=\"").append(Palette.heat(f.pathShareP50()))
                    .append("\" stroke=\"").append(f.rank() == 1 && f.pathUsTotal() > 0 ? "#7b241c" : "#555")
                    .append("\" stroke-width=\"").append(f.rank() == 1 && f.pathUsTotal() > 0 ? "2.2" : "1.2")
                    .append("\"><title>").append(esc(nodeTitle(f))).append("</title></rect>")
                    .append(text(p.x() + 10, p.y() + 20, "start", 13, "#111", true, clip(n, 24)))
                    .append(text(p.x() + 10, p.y() + 37, "start", 11, "#333", false,
                            f.invocations() + " inv · path p50 " + percent(f.pathShareP50())))
                    .append(text(p.x() + 10, p.y() + 52, "start", 11, f.coldStartsOnPath() > 0 ? "#1f5f8b" : "#333", false,
                            f.coldStartsOnPath() > 0
                                    ? f.coldStartsOnPath() + " cold on path · " + duration(f.coldOnPathUsTotal())
                                    : "p99 " + percent(f.pathShareP99()) + (f.errors() > 0 ? " · " + Format.count(f.errors(), "error") : "")))
                    .append("</g>\n");
        }
        h.append(labels);
        h.append("</svg></div>\n");
    }

    private static String nodeTitle(FunctionStats f) {
        return f.function() + ": rank " + f.rank() + ", " + f.invocations() + " invocations, " + f.errors() + " errors; "
                + duration(f.pathUsTotal()) + " on critical paths (" + percent(f.pathShareOfTotal()) + " of all trace time), "
                + "share p50 " + percent(f.pathShareP50()) + ", p99 " + percent(f.pathShareP99()) + "; on the path in "
                + f.tracesOnPath() + " of " + f.traces() + " traces; " + f.coldStarts() + " cold starts, "
                + f.coldStartsOnPath() + " on the path";
    }

    private static void marker(StringBuilder h, String id, String colour) {
        h.append("<marker id=\"").append(id).append("\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" ")
                .append("markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto\" ")
                .append("><path d=\"M0,0 L10,5 L0,10 z\" fill=\"").append(colour).append("\"/></marker>\n");
    }
}
