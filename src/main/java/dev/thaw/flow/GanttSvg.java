package dev.thaw.flow;

import dev.thaw.flow.FlowReport.TraceSummary;
import dev.thaw.trace.SpanTags;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static dev.thaw.flow.Format.duration;
import static dev.thaw.flow.Format.percent;
import static dev.thaw.flow.Markup.clip;
import static dev.thaw.flow.Markup.esc;
import static dev.thaw.flow.Markup.num;
import static dev.thaw.flow.Markup.text;

/**
 * The HTML report's critical paths of the slowest traces, each as an inline-SVG Gantt chart: one
 * row per function on the path, each section of the path a bar placed in time, restore phases
 * (cold starts) pale and dashed, and each function's total on the path at the row's end. The
 * plot has a fixed width, so a chart reads the same whatever the trace's length; the axis gives
 * the times.
 */
final class GanttSvg {
    private static final int GANTT_LABEL = 170;
    private static final int GANTT_PLOT = 800;
    private static final int GANTT_RIGHT = 150;
    private static final int GANTT_ROW = 24;

    private GanttSvg() {}

    static void draw(StringBuilder h, List<TraceSummary> traces, Map<String, String> colours, int count) {
        if (count <= 0 || traces.isEmpty()) {
            return;
        }
        List<TraceSummary> slowest = traces.stream()
                .sorted(Comparator.comparingLong(TraceSummary::durationUs).reversed().thenComparing(TraceSummary::traceId))
                .limit(count).toList();
        h.append("<h2>Critical paths of the ").append(slowest.size() == traces.size() ? "" : slowest.size() + " ")
                .append("slowest traces</h2>\n<p class=\"legend\">One row per function; each bar is a section of the "
                        + "critical path, placed in time; pale dashed bars are restore phases (cold starts). Hover a bar for its span.</p>\n");
        for (TraceSummary t : slowest) {
            h.append("<h3>trace <code>").append(esc(t.traceId())).append("</code> · ").append(esc(duration(t.durationUs())))
                    .append(" · root ").append(esc(String.join(", ", t.rootFunctions())))
                    .append(t.gapUs() > 0 ? " · " + esc(duration(t.gapUs())) + " with no span on the path open" : "")
                    .append("</h3>\n");
            gantt(h, t, colours);
        }
    }

    private static void gantt(StringBuilder h, TraceSummary t, Map<String, String> colours) {
        List<String> rows = new ArrayList<>(new LinkedHashSet<>(t.criticalPath().stream().map(CriticalPathSection::function).toList()));
        int axis = 22;
        int width = GANTT_LABEL + GANTT_PLOT + GANTT_RIGHT;
        int height = axis + rows.size() * GANTT_ROW + 8;
        double scale = t.durationUs() == 0 ? 0 : (double) GANTT_PLOT / t.durationUs();
        h.append("<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" role=\"img\" aria-label=\"critical path of trace ").append(esc(t.traceId())).append("\">\n");
        for (int i = 0; i <= 4; i++) {
            double x = GANTT_LABEL + GANTT_PLOT * i / 4.0;
            h.append("<line x1=\"").append(num(x)).append("\" y1=\"").append(axis - 4).append("\" x2=\"").append(num(x))
                    .append("\" y2=\"").append(height - 4).append("\" stroke=\"#e3e3e3\"/>")
                    .append(text(x, axis - 8, i == 0 ? "start" : i == 4 ? "end" : "middle", 10, "#777", false,
                            duration(t.durationUs() * i / 4)))
                    .append('\n');
        }
        for (int r = 0; r < rows.size(); r++) {
            String f = rows.get(r);
            int y = axis + r * GANTT_ROW;
            if (r % 2 == 0) {
                h.append("<rect x=\"0\" y=\"").append(y).append("\" width=\"").append(width).append("\" height=\"")
                        .append(GANTT_ROW).append("\" fill=\"#fafafa\"/>");
            }
            h.append(text(GANTT_LABEL - 10, y + 16, "end", 12, "#222", false, clip(f, 22)));
            long total = t.pathUsByFunction().getOrDefault(f, 0L);
            h.append(text(GANTT_LABEL + GANTT_PLOT + 10, y + 16, "start", 11, "#444", false,
                    duration(total) + " (" + percent(t.durationUs() == 0 ? 0 : (double) total / t.durationUs()) + ")"))
                    .append('\n');
        }
        for (CriticalPathSection c : t.criticalPath()) {
            int r = rows.indexOf(c.function());
            double x = GANTT_LABEL + (c.startUs() - t.startUs()) * scale;
            double w = Math.max(1.5, c.lengthUs() * scale);
            String colour = colours.getOrDefault(c.function(), Palette.OFF_PATH);
            boolean restore = SpanTags.RESTORE_PHASES.contains(c.operation());
            h.append("<rect x=\"").append(num(x)).append("\" y=\"").append(axis + r * GANTT_ROW + 4).append("\" width=\"")
                    .append(num(w)).append("\" height=\"").append(GANTT_ROW - 8).append("\" rx=\"2\" fill=\"")
                    .append(colour).append(restore ? "\" fill-opacity=\"0.35\" stroke=\"" + colour + "\" stroke-dasharray=\"3 2" : "")
                    .append("\"><title>")
                    .append(esc(c.function() + " · " + c.operation() + " · span " + c.spanId() + " · +"
                            + duration(c.startUs() - t.startUs()) + " for " + duration(c.lengthUs())))
                    .append("</title></rect>\n");
        }
        h.append("</svg></div>\n");
    }
}
