package dev.thaw.flow;

import java.util.Locale;

/**
 * The few markup helpers that the HTML report and its SVG drawings ({@link GraphSvg},
 * {@link GanttSvg}) share: escaping, coordinates with one decimal, an SVG text element, and a
 * label clipped to a width. The report writes its markup into a StringBuilder by hand; with no
 * template engine, every text that comes from a trace goes through {@link #esc}.
 */
final class Markup {
    private Markup() {}

    static String text(double x, double y, String anchor, int size, String colour, boolean bold, String value) {
        return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" font-size=\"" + size
                + "\" fill=\"" + colour + "\"" + (bold ? " font-weight=\"bold\"" : "") + ">" + esc(value) + "</text>";
    }

    static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    static String num(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
