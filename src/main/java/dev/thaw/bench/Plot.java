package dev.thaw.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A canvas for one chart: white background, antialiased text, a title, a plot area, axes with
 * ticks and a legend. Just the primitives {@link Charts} needs, drawn with Java2D so reports need
 * no plotting library and no display ({@code java.awt.headless}).
 */
final class Plot {
    static {
        // Charts are drawn on servers without a display; this must be set before AWT initialises.
        System.setProperty("java.awt.headless", "true");
    }

    static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font LABEL_BOLD = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    static final Color INK = new Color(0x222222);
    static final Color GRID = new Color(0xe4e4e4);
    static final Color MUTED = new Color(0x666666);

    final BufferedImage image;
    final Graphics2D g;
    final int width;
    final int height;

    Plot(int width, int height) {
        this.width = width;
        this.height = height;
        this.image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        this.g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    BufferedImage finish() {
        g.dispose();
        return image;
    }

    /** Title and a smaller line under it; returns the y below them. */
    int title(String title, String subtitle) {
        g.setColor(INK);
        g.setFont(TITLE);
        g.drawString(title, 20, 30);
        g.setFont(SUBTITLE);
        g.setColor(MUTED);
        g.drawString(subtitle, 20, 50);
        return 62;
    }

    int textWidth(Font f, String s) {
        return g.getFontMetrics(f).stringWidth(s);
    }

    void text(Font f, Color c, String s, double x, double y) {
        g.setFont(f);
        g.setColor(c);
        g.drawString(s, (float) x, (float) y);
    }

    /** Text centred on x, baseline at y. */
    void centred(Font f, Color c, String s, double x, double y) {
        text(f, c, s, x - textWidth(f, s) / 2.0, y);
    }

    /** Text rotated 90° counter-clockwise, reading upwards, starting at (x, y). */
    void vertical(Font f, Color c, String s, double x, double y) {
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, x, y);
        text(f, c, s, x, y);
        g.setTransform(saved);
    }

    /**
     * A legend of coloured boxes and labels laid out left to right, wrapping within
     * [x, x+maxWidth]; returns its height. With {@code draw} false it only measures.
     */
    int legend(List<String> labels, List<Color> colors, int x, int y, int maxWidth, boolean draw) {
        FontMetrics fm = g.getFontMetrics(LABEL);
        int cx = x, cy = y, row = fm.getHeight() + 6;
        for (int i = 0; i < labels.size(); i++) {
            int w = 18 + fm.stringWidth(labels.get(i)) + 18;
            if (cx + w > x + maxWidth && cx > x) {
                cx = x;
                cy += row;
            }
            if (draw) {
                g.setColor(colors.get(i));
                g.fillRect(cx, cy - 11, 13, 13);
                g.setColor(INK.brighter());
                g.drawRect(cx, cy - 11, 13, 13);
                text(LABEL, INK, labels.get(i), cx + 18, cy);
            }
            cx += w;
        }
        return cy - y + row;
    }

    /** A value-to-pixel mapping along one axis, with the tick values worth labelling. */
    interface Scale {
        /** Position of {@code v} as a fraction of the axis, 0 at the start, 1 at the end. */
        double fraction(double v);

        List<Double> ticks();

        double max();

        boolean log();
    }

    /** 0 to a round number at or above {@code max}, about five ticks. */
    static Scale linear(double max) {
        double top = max <= 0 || Double.isNaN(max) ? 1 : max;
        double step = niceStep(top / 5);
        double hi = Math.ceil(top / step - 1e-9) * step;
        List<Double> ticks = new ArrayList<>();
        for (int i = 0; i * step <= hi + step / 2; i++) ticks.add(i * step);
        return new Scale() {
            public double fraction(double v) {
                return Math.max(0, Math.min(1, v / hi));
            }

            public List<Double> ticks() {
                return ticks;
            }

            public double max() {
                return hi;
            }

            public boolean log() {
                return false;
            }
        };
    }

    /** Decades from below {@code min} to above {@code max}, ticks at 1-2-5 (or only powers of ten when wide). */
    static Scale log(double min, double max) {
        double lo = Math.pow(10, Math.floor(Math.log10(Math.max(min, 1e-3))));
        double hi = Math.pow(10, Math.ceil(Math.log10(Math.max(max, lo * 10))));
        if (hi <= lo) hi = lo * 10;
        double lLo = Math.log10(lo), lHi = Math.log10(hi);
        boolean wide = lHi - lLo > 4;
        List<Double> ticks = new ArrayList<>();
        for (double d = lo; d <= hi * 1.0001; d *= 10) {
            for (int m : wide ? new int[]{1} : new int[]{1, 2, 5}) {
                if (d * m <= hi * 1.0001) ticks.add(d * m);
            }
        }
        double top = hi;
        return new Scale() {
            public double fraction(double v) {
                if (v <= 0) return 0;
                return Math.max(0, Math.min(1, (Math.log10(v) - lLo) / (lHi - lLo)));
            }

            public List<Double> ticks() {
                return ticks;
            }

            public double max() {
                return top;
            }

            public boolean log() {
                return true;
            }
        };
    }

    /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[]{1, 2, 2.5, 5, 10}) {
            if (p * m >= raw) return p * m;
        }
        return p * 10;
    }

    /** Horizontal grid lines and labels of a vertical value axis on the left of {@code area}. */
    void yAxis(Rectangle area, Scale s, String label) {
        for (double t : s.ticks()) {
            int y = (int) Math.round(area.y + area.height - s.fraction(t) * area.height);
            g.setColor(GRID);
            g.drawLine(area.x, y, area.x + area.width, y);
            String txt = tick(t);
            text(SMALL, MUTED, txt, area.x - 6 - textWidth(SMALL, txt), y + 4);
        }
        axisLines(area);
        vertical(LABEL, INK, label, area.x - 58, area.y + area.height / 2.0 + textWidth(LABEL, label) / 2.0);
    }

    /** Vertical grid lines and labels of a horizontal value axis under {@code area}. */
    void xAxis(Rectangle area, Scale s, String label) {
        for (double t : s.ticks()) {
            int x = (int) Math.round(area.x + s.fraction(t) * area.width);
            g.setColor(GRID);
            g.drawLine(x, area.y, x, area.y + area.height);
            centred(SMALL, MUTED, tick(t), x, area.y + area.height + 16);
        }
        axisLines(area);
        centred(LABEL, INK, label, area.x + area.width / 2.0, area.y + area.height + 36);
    }

    private void axisLines(Rectangle area) {
        g.setColor(INK);
        g.setStroke(new BasicStroke(1f));
        g.drawLine(area.x, area.y, area.x, area.y + area.height);
        g.drawLine(area.x, area.y + area.height, area.x + area.width, area.y + area.height);
    }

    /** A tick label: whole numbers without decimals. */
    static String tick(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%,.0f", v) : number(v);
    }

    /** A number as a tick or bar label: no needless decimals, thousands grouped. */
    static String number(double v) {
        if (Double.isNaN(v)) return "-";
        double a = Math.abs(v);
        if (a == 0) return "0";
        if (a < 1) return String.format(Locale.ROOT, "%.2f", v);
        if (a < 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%,.0f", v);
    }
}
