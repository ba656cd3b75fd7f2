package dev.thaw.bench;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.CategoryTextAnnotation;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAnchor;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The phase breakdown: one horizontal stacked bar per function and mode, split into the phases
 * of its start-up, with the median total at the end of each bar. Bars are grouped by function
 * under a bold heading row.
 *
 * <p>A cold boot can take ten times longer than any restore; on one linear axis it would squash
 * every restore's phases into a few pixels. The old hand-drawn chart cut those bars at the edge;
 * here the axis is broken instead, with JFreeChart's way of giving one set of categories several
 * value axes: a {@link CombinedDomainCategoryPlot} whose wide left panel runs from 0 to just past
 * the slowest restore and whose narrow right panel shows only the far end, where the cold boots
 * end. Both panels draw the same bars; each clips them to its own range, so the gap between the
 * panels is the break and every bar's end, with its total, stays visible.
 */
final class PhaseChart {
    /** A row of the chart: a function's heading ({@code mode} null, no bar) or one of its bars. */
    record Row(String function, String mode) implements Comparable<Row> {
        @Override
        public int compareTo(Row o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return mode == null ? function : mode;
        }
    }

    private PhaseChart() {}

    static Charts.Chart of(BenchReport r) {
        List<BenchResult> rows = Charts.primary(r);
        if (rows.isEmpty()) return null;
        List<String> phases = r.phases();
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<BenchResult> bars = new ArrayList<>();
        List<Row> keys = new ArrayList<>();
        for (String fn : Charts.functionsOf(rows)) {
            Row heading = new Row(fn, null);
            keys.add(heading);
            data.addValue(null, phases.isEmpty() ? "" : phases.getFirst(), heading);
            for (String mode : Charts.modesOf(rows)) {
                BenchResult x = Charts.find(rows, fn, mode);
                if (x == null) continue;
                Row key = new Row(fn, mode);
                keys.add(key);
                bars.add(x);
                for (String ph : phases) {
                    Double v = x.phasesMs().get(ph);
                    data.addValue(v == null || v <= 0 ? null : v, ph, key);
                }
            }
        }

        double maxAll = bars.stream().mapToDouble(PhaseChart::barLength).max().orElse(1);
        double maxRest = bars.stream().filter(x -> !x.mode().equals("cold")).mapToDouble(PhaseChart::barLength).max().orElse(0);
        boolean broken = maxRest > 0 && maxAll > 2.5 * maxRest;
        double limit = broken ? maxRest * 1.3 : maxAll * 1.15; // room for the total's label
        CategoryAxis rowAxis = new CategoryAxis();
        CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(rowAxis);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        plot.setGap(14);
        List<CategoryPlot> panels = new ArrayList<>();
        panels.add(panel(data, 0, limit, "time, ms (phase medians, stacked)"));
        if (broken) {
            // The far panel starts at half the shortest long bar, so the end of each cold boot has room.
            double shortest = bars.stream().mapToDouble(PhaseChart::barLength).filter(v -> v > limit).min().orElse(limit);
            double from = Math.max(limit, shortest / 2);
            panels.add(panel(data, from, maxAll + (maxAll - from) * 0.5, "axis broken: cold boots, ms"));
        }
        for (int i = 0; i < panels.size(); i++) plot.add(panels.get(i), i == 0 ? 3 : 1);

        JFreeChart chart = ChartStyle.chart("Where the start-up time goes",
                "median of each phase per function and mode, total at the end of each bar; " + Charts.slice(r, rows), plot);
        rowAxis.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        rowAxis.setMaximumCategoryLabelWidthRatio(0.25f);
        rowAxis.setCategoryMargin(0.25);
        rowAxis.setLowerMargin(0.01);
        rowAxis.setUpperMargin(0.01);
        for (Row k : keys) {
            rowAxis.setTickLabelFont(k, k.mode() == null ? ChartStyle.LABEL_BOLD : ChartStyle.LABEL);
            rowAxis.setTickLabelPaint(k, ChartStyle.INK);
        }
        for (CategoryPlot panel : panels) {
            StackedBarRenderer renderer = (StackedBarRenderer) panel.getRenderer();
            for (int i = 0; i < phases.size(); i++) renderer.setSeriesPaint(i, ChartStyle.phaseColor(phases.get(i), i));
            for (BenchResult x : bars) total(panel, new Row(x.function(), x.mode()), x);
        }
        plot.setFixedLegendItems(panels.getFirst().getLegendItems()); // one entry per phase, not one per panel
        int height = 150 + keys.size() * 24;
        return new Charts.Chart("phases.png", "Phase breakdown",
                "Each bar splits one start-up into phases: vmm_start (the VMM process starts), state_load (device state and "
                        + "memory mapping restored), prefetch (working set read ahead of use), resume, boot and function_load "
                        + "(cold boots only), guest_exec (the handler runs) and host_overhead (agent round trip and bookkeeping). "
                        + "Segments are per-phase medians, so they need not add up exactly to the median total printed at the end."
                        + (broken ? " The time axis is broken in two: the narrow right part shows where the much longer cold boots end."
                                : ""),
                chart, ChartStyle.render(chart, 1100, height));
    }

    /** One panel of the (possibly broken) time axis: the same stacked bars, seen between {@code from} and {@code to}. */
    private static CategoryPlot panel(DefaultCategoryDataset data, double from, double to, String label) {
        StackedBarRenderer renderer = new StackedBarRenderer();
        var axis = ChartStyle.linear(label, to);
        axis.setRange(from, to);
        CategoryPlot panel = new CategoryPlot(data, null, axis, renderer);
        panel.setRangeAxisLocation(AxisLocation.BOTTOM_OR_RIGHT); // under the bars, as a reader expects a time axis
        return panel;
    }

    /** The median total, written just after the end of the bar, in the panel whose range holds that end. */
    private static void total(CategoryPlot panel, Row key, BenchResult x) {
        double end = x.phasesMs().values().stream().filter(v -> v != null && v > 0).mapToDouble(Double::doubleValue).sum();
        if (end == 0) end = x.totalMs().median();
        if (!panel.getRangeAxis().getRange().contains(end)) return;
        CategoryTextAnnotation a = new CategoryTextAnnotation("  " + ChartStyle.number(x.totalMs().median()) + " ms", key, end);
        a.setCategoryAnchor(CategoryAnchor.MIDDLE);
        a.setTextAnchor(TextAnchor.CENTER_LEFT);
        a.setFont(ChartStyle.SMALL);
        a.setPaint(ChartStyle.INK);
        panel.addAnnotation(a);
    }

    /** How far a stacked bar reaches: its phases' sum, or the total when that is longer. */
    private static double barLength(BenchResult x) {
        return Math.max(x.totalMs().median(), x.phasesMs().values().stream().filter(Objects::nonNull).mapToDouble(Double::doubleValue).sum());
    }
}
