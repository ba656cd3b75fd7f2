package dev.thaw.bench;

import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.CategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.CategoryItemRendererState;
import org.jfree.data.category.CategoryDataset;

import java.awt.BasicStroke;
import java.awt.Graphics2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;

/**
 * JFreeChart's vertical bars with a min–max whisker over each: the bar is a median, the whisker
 * spans the fastest and the slowest invocation. The library's own error-bar renderers draw a
 * symmetric spread (mean ± deviation), which latency is not; so this renderer lets
 * {@link BarRenderer} draw the bar and its value label, and adds the whisker at the bar's centre.
 * The label is placed as if the bar reached the whisker's top, so the two never overlap.
 */
final class WhiskerBarRenderer extends BarRenderer {
    /** The spread behind one bar, by series and category key; {@code null} draws no whisker. */
    interface Spread {
        Stats of(Comparable<?> series, Comparable<?> category);
    }

    private final transient Spread spread;
    /** Screen y of the whisker's top for the bar being drawn, read by {@link #drawItemLabel}. */
    private transient double whiskerTop = Double.NaN;

    WhiskerBarRenderer(Spread spread) {
        this.spread = spread;
    }

    @Override
    public void drawItem(Graphics2D g2, CategoryItemRendererState state, Rectangle2D dataArea, CategoryPlot plot,
                         CategoryAxis domainAxis, ValueAxis rangeAxis, CategoryDataset dataset, int row, int column, int pass) {
        Stats s = dataset.getValue(row, column) == null ? null : spread.of(dataset.getRowKey(row), dataset.getColumnKey(column));
        // Clamped to the axis: a log axis has no place for zero.
        double lo = s == null ? Double.NaN : rangeAxis.valueToJava2D(Math.max(s.min(), rangeAxis.getLowerBound()), dataArea, plot.getRangeAxisEdge());
        whiskerTop = s == null ? Double.NaN : rangeAxis.valueToJava2D(Math.min(s.max(), rangeAxis.getUpperBound()), dataArea, plot.getRangeAxisEdge());
        super.drawItem(g2, state, dataArea, plot, domainAxis, rangeAxis, dataset, row, column, pass);
        if (s == null) return;
        double x = calculateBarW0(plot, plot.getOrientation(), dataArea, domainAxis, state, row, column) + state.getBarWidth() / 2;
        g2.setPaint(ChartStyle.INK);
        g2.setStroke(new BasicStroke(1.2f));
        g2.draw(new Line2D.Double(x, lo, x, whiskerTop));
        g2.draw(new Line2D.Double(x - 3, lo, x + 3, lo));
        g2.draw(new Line2D.Double(x - 3, whiskerTop, x + 3, whiskerTop));
    }

    @Override
    protected void drawItemLabel(Graphics2D g2, CategoryDataset data, int row, int column, CategoryPlot plot,
                                 CategoryItemLabelGenerator generator, Rectangle2D bar, boolean negative) {
        Rectangle2D reach = bar;
        if (whiskerTop < bar.getMinY()) { // false for NaN
            reach = new Rectangle2D.Double(bar.getX(), whiskerTop, bar.getWidth(), bar.getMaxY() - whiskerTop);
        }
        super.drawItemLabel(g2, data, row, column, plot, generator, reach, negative);
    }
}
