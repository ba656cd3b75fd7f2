package dev.thaw.bench;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.ExtendedCategoryAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.font.FontRenderContext;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * The benchmark report's charts, drawn with JFreeChart from a {@link BenchReport}: start-up
 * latency per function and mode, the phase breakdown behind it ({@link PhaseChart}), working-set
 * sizes against guest memory, and latency under concurrent restores. A chart whose data the
 * report lacks (no memory counters from an older daemon, no parallelism sweep) is left out rather
 * than drawn empty. This class decides what each chart shows; {@link ChartStyle} how it looks.
 *
 * <p>The first three charts use one slice of the results: parallelism 1 (the smallest level when
 * a function never ran alone) and the {@code test} input when there is one, because that is the
 * comparison the papers make; the concurrency chart uses the cells that ran at several levels.
 * Each {@link Chart} keeps the JFreeChart it was drawn from, so tests can check its series.
 */
public final class Charts {
    static {
        // Charts are drawn on servers without a display; this must be set before AWT initialises.
        System.setProperty("java.awt.headless", "true");
    }

    /** One rendered chart, the words the report puts around it, and the chart object it was drawn from. */
    public record Chart(String file, String title, String caption, JFreeChart chart, BufferedImage image) {
        public byte[] png() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                ImageIO.write(image, "png", out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }
    }

    private Charts() {}

    /** Every chart the report's data supports, in report order. */
    public static List<Chart> all(BenchReport report) {
        List<Chart> out = new ArrayList<>();
        for (Chart c : new Chart[]{latency(report), PhaseChart.of(report), memory(report), concurrency(report)}) {
            if (c != null) out.add(c);
        }
        return out;
    }

    // ---------------------------------------------------------------- which results a chart shows

    /** The input the single-level charts show: {@code test} when any result has it. */
    static String primaryInput(BenchReport r) {
        return r.results().stream().anyMatch(x -> x.input().equals("test")) ? "test"
                : r.results().stream().map(BenchResult::input).findFirst().orElse("test");
    }

    /** For each function and mode, one result: lowest parallelism, primary input, first experiment that ran it. */
    static List<BenchResult> primary(BenchReport r) {
        String input = primaryInput(r);
        Map<List<String>, BenchResult> best = new LinkedHashMap<>();
        for (BenchResult x : r.results()) {
            if (!x.input().equals(input) || x.invocations() == 0) continue;
            List<String> key = List.of(x.function(), x.mode());
            BenchResult old = best.get(key);
            if (old == null || x.parallelism() < old.parallelism()) best.put(key, x);
        }
        return new ArrayList<>(best.values());
    }

    static List<String> functionsOf(List<BenchResult> rows) {
        Set<String> s = new LinkedHashSet<>();
        rows.forEach(x -> s.add(x.function()));
        return new ArrayList<>(s);
    }

    static List<String> modesOf(List<BenchResult> rows) {
        return rows.stream().map(BenchResult::mode).distinct().sorted(Comparator.comparingInt(Modes::order)).toList();
    }

    static BenchResult find(List<BenchResult> rows, String function, String mode) {
        return rows.stream().filter(x -> x.function().equals(function) && x.mode().equals(mode)).findFirst().orElse(null);
    }

    static String slice(BenchReport r, List<BenchResult> rows) {
        int p = rows.stream().mapToInt(BenchResult::parallelism).max().orElse(1);
        String host = r.host() == null ? "" : String.format(Locale.ROOT, "; %s, read_ahead_kb %d, VMM THP advice %s", r.host().accel(), r.host().readAheadKb(), r.host().vmmThpAdvice());
        return "input \"" + primaryInput(r) + "\", " + (p == 1 ? "one invocation at a time" : "lowest parallelism run") + host;
    }

    // ---------------------------------------------------------------- 1: latency

    /** Grouped bars: median latency per function (group) and mode (bar), whiskers min–max, values on the bars. */
    static Chart latency(BenchReport r) {
        List<BenchResult> rows = primary(r);
        if (rows.isEmpty()) return null;
        List<String> fns = functionsOf(rows);
        List<String> modes = modesOf(rows);
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (String m : modes) {
            for (String f : fns) {
                BenchResult x = find(rows, f, m);
                data.addValue(x == null ? null : x.totalMs().median(), m, f);
            }
        }
        double min = rows.stream().mapToDouble(x -> x.totalMs().min()).filter(v -> v > 0).min().orElse(1);
        double max = rows.stream().mapToDouble(x -> x.totalMs().max()).max().orElse(1);
        boolean log = max / min > 30;
        String axisLabel = "latency, ms" + (log ? " (log scale)" : "");
        // Head room above the tallest whisker for its label, about a tenth of the axis either way.
        ValueAxis axis = log ? ChartStyle.log(axisLabel, min, max * 2.5) : ChartStyle.linear(axisLabel, max * 1.12);
        WhiskerBarRenderer bars = new WhiskerBarRenderer((m, f) -> find(rows, f.toString(), m.toString()).totalMs());
        CategoryPlot plot = new CategoryPlot(data, new CategoryAxis(), axis, bars);
        JFreeChart chart = ChartStyle.chart("Start-up latency by function and mode",
                "median per bar (value on top), whiskers min–max; " + slice(r, rows), plot);
        plot.getDomainAxis().setTickLabelFont(ChartStyle.LABEL_BOLD);
        plot.getDomainAxis().setTickLabelPaint(ChartStyle.INK);
        plot.setRangeMinorGridlinesVisible(log); // lines at 2, 3, … 9 within each decade

        int width = Math.max(900, 120 + fns.size() * (modes.size() * 22 + 30));
        double plotWidth = width - 130, barWidth = Math.min(34, plotWidth * 0.7 / fns.size() * 0.95 / modes.size());
        bars.setMaximumBarWidth(34 / plotWidth);
        bars.setItemMargin(0.05);
        for (int i = 0; i < modes.size(); i++) bars.setSeriesPaint(i, ChartStyle.modeColor(modes.get(i), i));
        bars.setDefaultItemLabelGenerator(ChartStyle.labels((d, row, col) -> ChartStyle.number(d.getValue(row, col).doubleValue())));
        bars.setDefaultItemLabelsVisible(true);
        bars.setItemLabelAnchorOffset(4);
        double widest = rows.stream().mapToDouble(x -> textWidth(ChartStyle.number(x.totalMs().median()))).max().orElse(0);
        bars.setDefaultPositiveItemLabelPosition(widest <= barWidth + 6
                ? new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER)
                : upwards());
        return new Chart("latency.png", "Start-up latency",
                "Median latency of one invocation (the daemon's timing_ms.total: from the request to the function's answer) "
                        + "for each function and mode" + (log ? "; the axis is logarithmic because the modes differ by orders of magnitude" : "")
                        + ". Lower is better.", chart, ChartStyle.render(chart, width, 620));
    }

    /** A value label reading upwards from just above its bar, for bars narrower than their numbers. */
    private static ItemLabelPosition upwards() {
        return new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.CENTER_LEFT, TextAnchor.CENTER_LEFT, -Math.PI / 2);
    }

    /** Width in pixels of a value label. */
    private static double textWidth(String s) {
        return ChartStyle.SMALL.getStringBounds(s, new FontRenderContext(null, true, true)).getWidth();
    }

    // ---------------------------------------------------------------- 3: memory

    /** For each function: guest memory, working set and loading set in MiB, side by side. */
    static Chart memory(BenchReport r) {
        List<BenchResult> rows = primary(r);
        Map<String, BenchResult> source = new LinkedHashMap<>();
        for (String fn : functionsOf(rows)) {
            for (String mode : List.of("faasnap", "reap", "vanilla", "cached", "cold", "warm")) {
                BenchResult x = find(rows, fn, mode);
                if (x != null && (!Double.isNaN(x.memoryMedian("working_set_pages")) || !Double.isNaN(x.memoryMedian("loading_set_pages")))) {
                    source.put(fn, x);
                    break;
                }
            }
        }
        if (source.isEmpty()) return null;
        List<String> series = List.of("guest memory", "working set", "loading set");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        ExtendedCategoryAxis functions = new ExtendedCategoryAxis(null);
        double max = 0;
        for (Map.Entry<String, BenchResult> e : source.entrySet()) {
            double[] values = {memoryMib(r, e.getKey()), pagesMib(e.getValue().memoryMedian("working_set_pages")),
                    pagesMib(e.getValue().memoryMedian("loading_set_pages"))};
            for (int i = 0; i < 3; i++) {
                boolean shown = !Double.isNaN(values[i]) && values[i] > 0;
                data.addValue(shown ? values[i] : null, series.get(i), e.getKey());
                if (shown) max = Math.max(max, values[i]);
            }
            functions.addSubLabel(e.getKey(), "(" + e.getValue().mode() + ")");
        }
        BarRenderer bars = new BarRenderer();
        // Room above the tallest bar for its label, which reads upwards.
        CategoryPlot plot = new CategoryPlot(data, functions, ChartStyle.linear("size, MiB", max * 1.18), bars);
        JFreeChart chart = ChartStyle.chart("Working set and loading set against guest memory",
                "MiB per function (percent of guest memory in brackets); sets as reported by the faasnap runs, else reap; "
                        + "input \"" + primaryInput(r) + "\"", plot);
        functions.setTickLabelFont(ChartStyle.LABEL_BOLD);
        functions.setTickLabelPaint(ChartStyle.INK);
        functions.setSubLabelFont(ChartStyle.SMALL);
        functions.setSubLabelPaint(ChartStyle.MUTED);
        List<Color> colours = List.of(new Color(0xc7c7c7), new Color(0x1f77b4), new Color(0x9467bd));
        for (int i = 0; i < 3; i++) bars.setSeriesPaint(i, colours.get(i));
        int width = Math.max(800, 120 + source.size() * 130);
        bars.setMaximumBarWidth(44.0 / (width - 130));
        bars.setItemMargin(0.08);
        bars.setDefaultItemLabelGenerator(ChartStyle.labels((d, row, col) -> {
            double v = d.getValue(row, col).doubleValue(), mem = memoryMib(r, d.getColumnKey(col).toString());
            return ChartStyle.number(v) + (row > 0 && mem > 0 ? String.format(Locale.ROOT, " (%.1f%%)", 100 * v / mem) : "");
        }));
        bars.setDefaultItemLabelsVisible(true);
        bars.setDefaultPositiveItemLabelPosition(upwards());
        return new Chart("memory.png", "Working set and loading set",
                "The working set is the guest memory an invocation touched after a restore; the loading set is the part of it "
                        + "that is not all zeros (what FaaSnap reads from disk). Both are medians in MiB, next to the memory "
                        + "size of the function's VM: a small set is why restoring only it is fast.", chart, ChartStyle.render(chart, width, 560));
    }

    private static double memoryMib(BenchReport r, String fn) {
        BenchReport.FunctionNote n = r.functions().get(fn);
        return n == null ? Double.NaN : n.memoryMib();
    }

    private static double pagesMib(double pages) {
        return pages * 4096 / (1 << 20);
    }

    // ---------------------------------------------------------------- 4: concurrency

    /** Lines of median latency against parallelism, one per function × mode × input that ran at several levels. */
    static Chart concurrency(BenchReport r) {
        Map<String, List<BenchResult>> series = new LinkedHashMap<>();
        for (BenchResult x : r.results()) {
            if (x.invocations() == 0) continue;
            // One series per experiment: a sweep's levels were measured together, under the same conditions.
            series.computeIfAbsent(x.experiment() + " · " + x.function() + " · " + x.mode() + " · " + x.input(), k -> new ArrayList<>()).add(x);
        }
        series.values().removeIf(l -> l.stream().map(BenchResult::parallelism).distinct().count() < 2);
        if (series.isEmpty()) return null;
        TreeSet<Integer> levelSet = new TreeSet<>();
        series.values().forEach(l -> l.forEach(x -> levelSet.add(x.parallelism())));
        List<Integer> levels = new ArrayList<>(levelSet);
        boolean oneFunction = series.values().stream().map(l -> l.getFirst().function()).distinct().count() == 1;
        boolean oneInput = series.values().stream().map(l -> l.getFirst().input()).distinct().count() == 1;
        boolean oneExperiment = series.values().stream().map(l -> l.getFirst().experiment()).distinct().count() == 1;

        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        List<Color> colours = new ArrayList<>();
        double max = 0;
        int i = 0;
        for (List<BenchResult> l : series.values()) {
            BenchResult first = l.getFirst();
            YIntervalSeries s = new YIntervalSeries((oneExperiment ? "" : first.experiment() + ": ")
                    + (oneFunction ? "" : first.function() + " · ") + first.mode() + (oneInput ? "" : " · " + first.input()));
            // Levels are evenly spaced like categories; series are nudged apart so their whiskers do not overlap.
            double nudge = (i - (series.size() - 1) / 2.0) * 0.02;
            for (BenchResult x : l) {
                s.add(levels.indexOf(x.parallelism()) + nudge, x.totalMs().median(), x.totalMs().min(), x.totalMs().max());
                max = Math.max(max, x.totalMs().max());
            }
            data.addSeries(s);
            colours.add(oneFunction && oneInput && oneExperiment ? ChartStyle.modeColor(first.mode(), i) : ChartStyle.extra(i));
            i++;
        }
        SymbolAxis x = new SymbolAxis("concurrent invocations (parallelism P)", levels.stream().map(String::valueOf).toArray(String[]::new));
        x.setGridBandsVisible(false);
        x.setRange(-0.5, levels.size() - 0.5);
        XYErrorRenderer lines = new XYErrorRenderer();
        XYPlot plot = new XYPlot(data, x, ChartStyle.linear("latency per invocation, ms", max * 1.08), lines);
        String fn = series.values().iterator().next().getFirst().function();
        JFreeChart chart = ChartStyle.chart("Latency under concurrent start-ups" + (oneFunction ? " (" + fn + ")" : ""),
                "median latency per invocation when P invocations start at once (each a restore, except warm); whiskers min–max", plot);
        x.setTickLabelFont(ChartStyle.SMALL);
        lines.setDrawXError(false);
        lines.setCapLength(6);
        lines.setDefaultLinesVisible(true);
        lines.setDefaultShapesVisible(true);
        lines.setErrorStroke(new BasicStroke(1.2f));
        for (int k = 0; k < colours.size(); k++) {
            lines.setSeriesPaint(k, colours.get(k));
            lines.setSeriesItemLabelPaint(k, colours.get(k).darker());
            lines.setSeriesStroke(k, new BasicStroke(2.2f));
            lines.setSeriesShape(k, new Ellipse2D.Double(-4.5, -4.5, 9, 9));
            // Latency grows with P, so lines leave a point to the upper right and reach it from the lower left: the
            // corners below right and above left are free. Series take turns, so two close series' labels stay apart.
            lines.setSeriesPositiveItemLabelPosition(k, k % 2 == 0
                    ? new ItemLabelPosition(ItemLabelAnchor.OUTSIDE4, TextAnchor.TOP_LEFT)
                    : new ItemLabelPosition(ItemLabelAnchor.OUTSIDE10, TextAnchor.BOTTOM_RIGHT));
        }
        lines.setDefaultItemLabelGenerator((d, s, item) -> ChartStyle.number(d.getYValue(s, item)));
        lines.setDefaultItemLabelsVisible(true);
        lines.setItemLabelAnchorOffset(5);
        return new Chart("concurrency.png", "Concurrent start-ups",
                "P invocations of the same function started at the same moment, each restoring its own VM (for the restore "
                        + "modes): how latency per invocation grows when restores compete for the disk and the CPUs. "
                        + "Points are medians over all invocations at that level.", chart,
                ChartStyle.render(chart, Math.max(800, 200 + levels.size() * 140), 560));
    }
}
