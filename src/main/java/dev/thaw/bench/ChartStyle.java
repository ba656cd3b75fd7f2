package dev.thaw.bench;

import dev.thaw.model.Phase;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.CategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.HorizontalAlignment;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.category.CategoryDataset;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The look every report chart shares, in one place: a JFreeChart theme (the logical SansSerif
 * font, which is DejaVu Sans on the hosts {@code ./thaw} sets up; white plot, light grid, flat
 * bars), the colours of modes and phases, how numbers are written, the title block (bold title,
 * grey subtitle, legend, all left-aligned) and rendering to an image.
 *
 * <p>Charts are built by first making the plot, then {@link #chart} (which applies the theme),
 * then setting series colours and special fonts: the theme resets those on every renderer and
 * axis it touches, so they must come after it.
 */
final class ChartStyle {
    static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font LABEL_BOLD = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    static final Color INK = new Color(0x222222);
    static final Color MUTED = new Color(0x666666);
    private static final Color GRID = new Color(0xe4e4e4);

    private static final Map<String, Color> MODES = Map.of(
            "cold", new Color(0x7f7f7f), "vanilla", new Color(0xd62728), "cached", new Color(0x2ca02c),
            "reap", new Color(0x1f77b4), "faasnap", new Color(0x9467bd),
            "faasnap-sparse", new Color(0xc5b0d5), "uffd", new Color(0x8c564b),
            "thaw", new Color(0x17becf),
            "warm", new Color(0xff7f0e));

    /**
     * Every phase the charts know, in the order a start-up goes through them, with its colour:
     * the only list of phase names in the chart code (the data's own order comes from
     * {@link BenchReport#phases()}; phases not listed here get a colour from {@link #extra}).
     */
    static final Map<String, Color> PHASES = phases(
            Phase.VMM_START, 0x4e79a7, Phase.VMM_BIND, 0x9c755f, Phase.STATE_LOAD, 0xf28e2b, Phase.PREFETCH, 0xe15759, Phase.RESUME, 0x76b7b2,
            Phase.BOOT, 0x59a14f, Phase.FUNCTION_LOAD, 0xedc948, Phase.GUEST_EXEC, 0xb07aa1, Phase.HOST_OVERHEAD, 0xbab0ac);

    private static final Color[] EXTRA = {new Color(0x17becf), new Color(0xbcbd22), new Color(0x8c564b),
            new Color(0xe377c2), new Color(0x393b79), new Color(0x637939)};

    private static final StandardChartTheme THEME = theme();

    private ChartStyle() {}

    static Color modeColor(String mode, int i) {
        return MODES.getOrDefault(mode, extra(i));
    }

    static Color phaseColor(String phase, int i) {
        return PHASES.getOrDefault(phase, extra(i));
    }

    /** Colours for series that are neither a known mode nor a known phase. */
    static Color extra(int i) {
        return EXTRA[Math.floorMod(i, EXTRA.length)];
    }

    /** Phase colours by the phase's id; every {@link Phase} must have one. */
    private static Map<String, Color> phases(Object... phaseThenRgb) {
        Map<String, Color> out = new LinkedHashMap<>();
        for (int i = 0; i < phaseThenRgb.length; i += 2) out.put(((Phase) phaseThenRgb[i]).id(), new Color((Integer) phaseThenRgb[i + 1]));
        if (out.size() != Phase.values().length) throw new IllegalStateException("a phase has no colour");
        return out;
    }

    private static StandardChartTheme theme() {
        StandardChartTheme t = new StandardChartTheme("thaw");
        t.setExtraLargeFont(TITLE);
        t.setLargeFont(LABEL);   // subtitle and axis labels
        t.setRegularFont(SMALL); // tick labels and value labels
        t.setSmallFont(SMALL);
        t.setTitlePaint(INK);
        t.setSubtitlePaint(MUTED);
        t.setAxisLabelPaint(INK);
        t.setTickLabelPaint(MUTED);
        t.setItemLabelPaint(INK);
        t.setLegendItemPaint(INK);
        t.setChartBackgroundPaint(Color.WHITE);
        t.setLegendBackgroundPaint(Color.WHITE);
        t.setPlotBackgroundPaint(Color.WHITE);
        t.setPlotOutlinePaint(new Color(0, true)); // no frame (transparent, so it hides no axis line)
        t.setDomainGridlinePaint(GRID);
        t.setRangeGridlinePaint(GRID);
        t.setAxisOffset(RectangleInsets.ZERO_INSETS);
        t.setBarPainter(new StandardBarPainter());
        t.setShadowVisible(false);
        return t;
    }

    /** A themed chart: the title, the subtitle line under it, then the legend, all left-aligned above the plot. */
    static JFreeChart chart(String title, String subtitle, Plot plot) {
        JFreeChart c = new JFreeChart(title, TITLE, plot, true);
        c.addSubtitle(0, new TextTitle(subtitle));
        THEME.apply(c);
        c.setTextAntiAlias(true);
        c.setPadding(new RectangleInsets(10, 14, 10, 20));
        c.getTitle().setHorizontalAlignment(HorizontalAlignment.LEFT);
        TextTitle sub = (TextTitle) c.getSubtitle(0);
        sub.setHorizontalAlignment(HorizontalAlignment.LEFT);
        sub.setTextAlignment(HorizontalAlignment.LEFT); // a long subtitle wraps rather than running off the image
        sub.setPadding(new RectangleInsets(4, 0, 6, 0));
        LegendTitle legend = c.getLegend();
        legend.setPosition(RectangleEdge.TOP);
        legend.setHorizontalAlignment(HorizontalAlignment.LEFT);
        legend.setFrame(BlockBorder.NONE);
        legend.setItemFont(LABEL);
        legend.setMargin(new RectangleInsets(0, 0, 14, 0));
        solidGrid(plot);
        return c;
    }

    /** Grid lines solid and one pixel wide: JFreeChart's default half-pixel dashes all but vanish in a PNG. */
    private static void solidGrid(Plot plot) {
        BasicStroke solid = new BasicStroke(1f);
        if (plot instanceof CombinedDomainCategoryPlot combined) for (Object sub : combined.getSubplots()) solidGrid((Plot) sub); // a raw List in this JFreeChart version
        if (plot instanceof CategoryPlot p) {
            p.setRangeGridlineStroke(solid);
            p.setDomainGridlineStroke(solid);
            p.setRangeMinorGridlineStroke(solid);
            p.setRangeMinorGridlinePaint(new Color(0xf2f2f2));
        }
        if (plot instanceof XYPlot p) {
            p.setRangeGridlineStroke(solid);
            p.setDomainGridlineStroke(solid);
        }
    }

    /** Draws the chart on a white image of the given size (no transparency, so PNGs look the same everywhere). */
    static BufferedImage render(JFreeChart chart, int width, int height) {
        return chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
    }

    /** A value axis from 0 to {@code max}, ticks written with thousands grouped. */
    static NumberAxis linear(String label, double max) {
        NumberAxis a = new NumberAxis(label);
        a.setRange(0, max > 0 && !Double.isNaN(max) ? max : 1);
        a.setNumberFormatOverride(ticks());
        return a;
    }

    /** A log axis from the decade at or below {@code min} to {@code max}, a labelled tick at each decade. */
    static ValueAxis log(String label, double min, double max) {
        LogAxis a = new LogAxis(label);
        double lo = Math.pow(10, Math.floor(Math.log10(Math.max(min, 1e-3))));
        a.setRange(lo, Math.max(max, lo * 10));
        a.setTickUnit(new NumberTickUnit(1, ticks(), 9)); // a decade; 9 steps put minor ticks at 2, 3, … 9
        a.setMinorTickMarksVisible(true);
        a.setNumberFormatOverride(ticks());
        return a;
    }

    /** Tick labels: whole numbers without decimals, thousands grouped, the same in every locale (one per axis: formats are not thread-safe). */
    static DecimalFormat ticks() {
        return new DecimalFormat("#,##0.##", DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    /** How a category chart writes each value label; {@code null} leaves the item unlabelled. */
    interface ItemLabel {
        String label(CategoryDataset data, int row, int column);
    }

    /** JFreeChart's label generator interface from one function (it also asks for series and category labels). */
    static CategoryItemLabelGenerator labels(ItemLabel f) {
        return new CategoryItemLabelGenerator() {
            public String generateRowLabel(CategoryDataset d, int row) {
                return d.getRowKey(row).toString();
            }

            public String generateColumnLabel(CategoryDataset d, int column) {
                return d.getColumnKey(column).toString();
            }

            public String generateLabel(CategoryDataset d, int row, int column) {
                return d.getValue(row, column) == null ? null : f.label(d, row, column);
            }
        };
    }

    /** A number as a bar or point label: no needless decimals, thousands grouped. */
    static String number(double v) {
        if (Double.isNaN(v)) return "-";
        double a = Math.abs(v);
        if (a == 0) return "0";
        if (a < 1) return String.format(Locale.ROOT, "%.2f", v);
        if (a < 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%,.0f", v);
    }
}
