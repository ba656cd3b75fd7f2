package dev.thaw.flow;

import java.util.Locale;

/** Colours shared by the DOT and HTML renderings. */
final class Palette {
    /** Categorical colours for functions (Tableau 10), in ranking order. */
    private static final String[] CATEGORY = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
            "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
    static final String PATH = "#c0392b";
    static final String OFF_PATH = "#8c8c8c";

    private Palette() {}

    static String category(int index) {
        return CATEGORY[Math.floorMod(index, CATEGORY.length)];
    }

    /** White at 0 through amber to red at 1: how much of the critical path a function holds. */
    static String heat(double share) {
        double s = Math.clamp(share, 0, 1);
        int[] from;
        int[] to;
        double t;
        if (s < 0.5) {
            from = new int[]{0xff, 0xff, 0xff};
            to = new int[]{0xfd, 0xc0, 0x7a};
            t = s / 0.5;
        } else {
            from = new int[]{0xfd, 0xc0, 0x7a};
            to = new int[]{0xef, 0x6a, 0x5a};
            t = (s - 0.5) / 0.5;
        }
        return String.format(Locale.ROOT, "#%02x%02x%02x", mix(from[0], to[0], t), mix(from[1], to[1], t),
                mix(from[2], to[2], t));
    }

    private static int mix(int a, int b, double t) {
        return (int) Math.round(a + (b - a) * t);
    }
}
