package dev.thaw.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
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
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The benchmark report's charts, drawn from a {@link BenchReport}: start-up latency per function
 * and mode, the phase breakdown behind it, working-set sizes against guest memory, and latency
 * under concurrent restores. A chart whose data the report lacks (no memory counters from an
 * older daemon, no parallelism sweep) is left out rather than drawn empty.
 *
 * <p>The first three charts use one slice of the results: parallelism 1 (the smallest level when
 * a function never ran alone) and the {@code test} input when there is one, because that is the
 * comparison the papers make; the concurrency chart uses the cells that ran at several levels.
 */
public final class Charts {
    /** One rendered chart and the words the report puts around it. */
    public record Chart(String file, String title, String caption, BufferedImage image) {
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

    private static final Map<String, Color> MODE_COLORS = Map.of(
            "cold", new Color(0x7f7f7f), "vanilla", new Color(0xd62728), "cached", new Color(0x2ca02c),
            "reap", new Color(0x1f77b4), "faasnap", new Color(0x9467bd), "warm", new Color(0xff7f0e));
    private static final Map<String, Color> PHASE_COLORS = Map.of(
            "vmm_start", new Color(0x4e79a7), "state_load", new Color(0xf28e2b), "prefetch", new Color(0xe15759),
            "resume", new Color(0x76b7b2), "boot", new Color(0x59a14f), "function_load", new Color(0xedc948),
            "guest_exec", new Color(0xb07aa1), "host_overhead", new Color(0xbab0ac));
    private static final Color[] EXTRA = {new Color(0x17becf), new Color(0xbcbd22), new Color(0x8c564b), new Color(0xe377c2),
            new Color(0x393b79), new Color(0x637939)};
    private static final Color MEMORY_COLOR = new Color(0xc7c7c7);
    private static final Color WS_COLOR = new Color(0x1f77b4);
    private static final Color LS_COLOR = new Color(0x9467bd);

    private Charts() {}

    /** Every chart the report's data supports, in report order. */
    public static List<Chart> all(BenchReport report) {
        List<Chart> out = new ArrayList<>();
        for (Chart c : new Chart[]{latency(report), phases(report), memory(report), concurrency(report)}) {
            if (c != null) out.add(c);
        }
        return out;
    }

    static Color modeColor(String mode, int i) {
        return MODE_COLORS.getOrDefault(mode, EXTRA[Math.floorMod(i, EXTRA.length)]);
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

    private static List<String> functionsOf(List<BenchResult> rows) {
        Set<String> s = new LinkedHashSet<>();
        rows.forEach(x -> s.add(x.function()));
        return new ArrayList<>(s);
    }

    private static List<String> modesOf(List<BenchResult> rows) {
        return rows.stream().map(BenchResult::mode).distinct().sorted(Comparator.comparingInt(Modes::order)).toList();
    }

    private static BenchResult find(List<BenchResult> rows, String function, String mode) {
        return rows.stream().filter(x -> x.function().equals(function) && x.mode().equals(mode)).findFirst().orElse(null);
    }

    private static String slice(BenchReport r, List<BenchResult> rows) {
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
        int width = Math.max(900, 120 + fns.size() * (modes.size() * 22 + 30));
        Plot p = new Plot(width, 620);
        int y = p.title("Start-up latency by function and mode",
                "median per bar (value on top), whiskers min–max; " + slice(r, rows));
        List<Color> colors = new ArrayList<>();
        for (int i = 0; i < modes.size(); i++) colors.add(modeColor(modes.get(i), i));
        int legendH = p.legend(modes, colors, 90, y + 16, width - 110, true);
        Rectangle area = new Rectangle(90, y + legendH + 56, width - 120, 0);
        area.height = p.height - area.y - 50;

        double min = rows.stream().mapToDouble(x -> x.totalMs().min()).filter(v -> v > 0).min().orElse(1);
        double max = rows.stream().mapToDouble(x -> x.totalMs().max()).max().orElse(1);
        boolean log = max / min > 30;
        Plot.Scale s = log ? Plot.log(min, max) : Plot.linear(max * 1.05);
        p.yAxis(area, s, "latency, ms" + (log ? " (log scale)" : ""));

        double groupW = area.width / (double) fns.size();
        double barW = Math.min(34, (groupW - 16) / modes.size());
        for (int f = 0; f < fns.size(); f++) {
            double gx = area.x + f * groupW + (groupW - barW * modes.size()) / 2;
            for (int m = 0; m < modes.size(); m++) {
                BenchResult x = find(rows, fns.get(f), modes.get(m));
                if (x == null) continue;
                double bx = gx + m * barW;
                double top = yOf(area, s, x.totalMs().median());
                p.g.setColor(colors.get(m));
                p.g.fill(new Rectangle.Double(bx + 1, top, barW - 2, area.y + area.height - top));
                double hi = yOf(area, s, x.totalMs().max()), lo = yOf(area, s, x.totalMs().min());
                whisker(p, bx + barW / 2, lo, hi, Plot.INK);
                String label = Plot.number(x.totalMs().median());
                double labelTop = Math.min(top, hi) - 4;
                if (p.textWidth(Plot.SMALL, label) <= barW + 6) {
                    p.centred(Plot.SMALL, Plot.INK, label, bx + barW / 2, labelTop);
                } else {
                    p.vertical(Plot.SMALL, Plot.INK, label, bx + barW / 2 + 4, labelTop);
                }
            }
            p.centred(Plot.LABEL_BOLD, Plot.INK, fns.get(f), area.x + f * groupW + groupW / 2, area.y + area.height + 20);
        }
        return new Chart("latency.png", "Start-up latency",
                "Median latency of one invocation (the daemon's timing_ms.total: from the request to the function's answer) "
                        + "for each function and mode" + (log ? "; the axis is logarithmic because the modes differ by orders of magnitude" : "")
                        + ". Lower is better.", p.finish());
    }

    private static double yOf(Rectangle area, Plot.Scale s, double v) {
        return area.y + area.height - s.fraction(v) * area.height;
    }

    private static void whisker(Plot p, double x, double lo, double hi, Color c) {
        p.g.setColor(c);
        p.g.setStroke(new BasicStroke(1.2f));
        p.g.draw(new java.awt.geom.Line2D.Double(x, lo, x, hi));
        p.g.draw(new java.awt.geom.Line2D.Double(x - 3, lo, x + 3, lo));
        p.g.draw(new java.awt.geom.Line2D.Double(x - 3, hi, x + 3, hi));
    }

    // ---------------------------------------------------------------- 2: phases

    /** Horizontal stacked bars, one per function × mode: where each start-up's time goes. */
    static Chart phases(BenchReport r) {
        List<BenchResult> rows = primary(r);
        if (rows.isEmpty()) return null;
        List<String> fns = functionsOf(rows);
        List<String> modes = modesOf(rows);
        List<String> phases = r.phases();
        int rowH = 24, gap = 14, left = 190, width = 1100;
        int nRows = rows.size();
        Plot measure = new Plot(10, 10);
        int legendH = measure.legend(phases, phaseColors(phases), left, 0, width - left - 30, false);
        measure.finish();
        int top = 62 + legendH + 26;
        int height = top + nRows * rowH + fns.size() * gap + 60;
        Plot p = new Plot(width, height);
        int y = p.title("Where the start-up time goes",
                "median of each phase per function and mode, total at the end of each bar; " + slice(r, rows));
        p.legend(phases, phaseColors(phases), left, y + 16, width - left - 30, true);

        // Cold boots can take ten times longer than any restore; on one linear axis they would squash every
        // restore's phases into a few pixels. Then the axis ends past the slowest restore and cold bars are cut.
        double maxAll = rows.stream().mapToDouble(Charts::barLength).max().orElse(1);
        double maxRest = rows.stream().filter(x -> !x.mode().equals("cold")).mapToDouble(Charts::barLength).max().orElse(0);
        boolean cut = maxRest > 0 && maxAll > 2.5 * maxRest;
        double limit = cut ? maxRest * 1.3 : maxAll * 1.15; // room for the total's label
        Rectangle area = new Rectangle(left, top, width - left - 40, nRows * rowH + fns.size() * gap);
        Plot.Scale s = Plot.linear(limit);
        p.xAxis(area, s, "time, ms (phase medians, stacked)" + (cut ? "; bars cut at the edge are cold boots, total printed on them" : ""));

        double cy = area.y + gap / 2.0;
        for (String fn : fns) {
            boolean first = true;
            for (String mode : modes) {
                BenchResult x = find(rows, fn, mode);
                if (x == null) continue;
                if (first) p.text(Plot.LABEL_BOLD, Plot.INK, fn, 16, cy + rowH - 8);
                first = false;
                p.text(Plot.LABEL, Plot.INK, mode, left - 8 - p.textWidth(Plot.LABEL, mode), cy + rowH - 8);
                double at = 0;
                for (String ph : phases) {
                    Double v = x.phasesMs().get(ph);
                    if (v == null || v <= 0) continue;
                    double x0 = area.x + s.fraction(at) * area.width, x1 = area.x + s.fraction(at + v) * area.width;
                    p.g.setColor(PHASE_COLORS.getOrDefault(ph, EXTRA[Math.floorMod(phases.indexOf(ph), EXTRA.length)]));
                    p.g.fill(new Rectangle.Double(x0, cy + 3, Math.max(1, x1 - x0), rowH - 6));
                    at += v;
                }
                String total = Plot.number(x.totalMs().median()) + " ms";
                int tw = p.textWidth(Plot.SMALL, total);
                double end = area.x + s.fraction(at) * area.width;
                if (at > s.max()) {
                    // The bar runs off the axis: mark the break.
                    end = area.x + area.width - 70;
                    p.g.setColor(Color.WHITE);
                    p.g.setStroke(new BasicStroke(3f));
                    p.g.draw(new java.awt.geom.Line2D.Double(end - 4, cy + rowH - 2, end + 4, cy + 2));
                    p.g.draw(new java.awt.geom.Line2D.Double(end + 2, cy + rowH - 2, end + 10, cy + 2));
                }
                if (at > s.max() || end + 6 + tw > p.width - 4) {
                    // No room after the bar: print the total on its end, on a white patch.
                    p.g.setColor(Color.WHITE);
                    p.g.fill(new Rectangle.Double(end - tw - 14, cy + 5, tw + 8, rowH - 10));
                    p.text(Plot.SMALL, Plot.INK, total, end - tw - 10, cy + rowH - 8);
                } else {
                    p.text(Plot.SMALL, Plot.INK, total, end + 6, cy + rowH - 8);
                }
                cy += rowH;
            }
            cy += gap;
        }
        return new Chart("phases.png", "Phase breakdown",
                "Each bar splits one start-up into phases: vmm_start (the VMM process starts), state_load (device state and "
                        + "memory mapping restored), prefetch (working set read ahead of use), resume, boot and function_load "
                        + "(cold boots only), guest_exec (the handler runs) and host_overhead (agent round trip and bookkeeping). "
                        + "Segments are per-phase medians, so they need not add up exactly to the median total printed at the end.",
                p.finish());
    }

    private static List<Color> phaseColors(List<String> phases) {
        List<Color> out = new ArrayList<>();
        for (int i = 0; i < phases.size(); i++) out.add(PHASE_COLORS.getOrDefault(phases.get(i), EXTRA[Math.floorMod(i, EXTRA.length)]));
        return out;
    }

    /** How far a stacked bar reaches: its phases' sum, or the total when that is longer. */
    private static double barLength(BenchResult x) {
        return Math.max(x.totalMs().median(), x.phasesMs().values().stream().filter(Objects::nonNull).mapToDouble(Double::doubleValue).sum());
    }

    // ---------------------------------------------------------------- 3: memory

    /** For each function: guest memory, working set and loading set in MiB, side by side. */
    static Chart memory(BenchReport r) {
        List<BenchResult> rows = primary(r);
        Map<String, BenchResult> source = new LinkedHashMap<>();
        for (String fn : functionsOf(rows)) {
            BenchResult best = null;
            for (String mode : List.of("faasnap", "reap", "vanilla", "cached", "cold", "warm")) {
                BenchResult x = find(rows, fn, mode);
                if (x != null && (!Double.isNaN(x.memoryMedian("working_set_pages")) || !Double.isNaN(x.memoryMedian("loading_set_pages")))) {
                    best = x;
                    break;
                }
            }
            if (best != null) source.put(fn, best);
        }
        if (source.isEmpty()) return null;
        List<String> fns = new ArrayList<>(source.keySet());
        List<String> series = List.of("guest memory", "working set", "loading set");
        List<Color> colors = List.of(MEMORY_COLOR, WS_COLOR, LS_COLOR);
        int width = Math.max(800, 120 + fns.size() * 130);
        Plot p = new Plot(width, 560);
        int y = p.title("Working set and loading set against guest memory",
                "MiB per function (percent of guest memory in brackets); sets as reported by the faasnap runs, else reap; "
                        + "input \"" + primaryInput(r) + "\"");
        int legendH = p.legend(series, colors, 90, y + 16, width - 110, true);
        Rectangle area = new Rectangle(90, y + legendH + 40, width - 120, 0);
        area.height = p.height - area.y - 50;

        double max = 0;
        for (String fn : fns) {
            max = Math.max(max, memoryMib(r, fn));
            max = Math.max(max, pagesMib(source.get(fn).memoryMedian("working_set_pages")));
        }
        Plot.Scale s = Plot.linear(max * 1.08);
        p.yAxis(area, s, "size, MiB");
        double groupW = area.width / (double) fns.size();
        double barW = Math.min(44, (groupW - 30) / 3);
        for (int f = 0; f < fns.size(); f++) {
            String fn = fns.get(f);
            BenchResult x = source.get(fn);
            double mem = memoryMib(r, fn);
            double[] values = {mem, pagesMib(x.memoryMedian("working_set_pages")), pagesMib(x.memoryMedian("loading_set_pages"))};
            double gx = area.x + f * groupW + (groupW - barW * 3) / 2;
            for (int i = 0; i < 3; i++) {
                if (Double.isNaN(values[i]) || values[i] <= 0) continue;
                double bx = gx + i * barW, top = yOf(area, s, values[i]);
                p.g.setColor(colors.get(i));
                p.g.fill(new Rectangle.Double(bx + 2, top, barW - 4, area.y + area.height - top));
                String label = Plot.number(values[i]);
                if (i > 0 && mem > 0) label += String.format(Locale.ROOT, " (%.1f%%)", 100 * values[i] / mem);
                p.vertical(Plot.SMALL, Plot.INK, label, bx + barW / 2 + 4, top - 4);
            }
            p.centred(Plot.LABEL_BOLD, Plot.INK, fn, area.x + f * groupW + groupW / 2, area.y + area.height + 20);
            p.centred(Plot.SMALL, Plot.MUTED, "(" + x.mode() + ")", area.x + f * groupW + groupW / 2, area.y + area.height + 36);
        }
        return new Chart("memory.png", "Working set and loading set",
                "The working set is the guest memory an invocation touched after a restore; the loading set is the part of it "
                        + "that is not all zeros (what FaaSnap reads from disk). Both are medians in MiB, next to the memory "
                        + "size of the function's VM: a small set is why restoring only it is fast.", p.finish());
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
        series.replaceAll((k, l) -> l.stream().sorted(Comparator.comparingInt(BenchResult::parallelism)).toList());
        TreeSet<Integer> levels = new TreeSet<>();
        series.values().forEach(l -> l.forEach(x -> levels.add(x.parallelism())));
        List<Integer> xs = new ArrayList<>(levels);
        boolean oneFunction = series.values().stream().map(l -> l.getFirst().function()).distinct().count() == 1;
        boolean oneInput = series.values().stream().map(l -> l.getFirst().input()).distinct().count() == 1;
        boolean oneExperiment = series.values().stream().map(l -> l.getFirst().experiment()).distinct().count() == 1;
        List<String> names = new ArrayList<>();
        List<Color> colors = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, List<BenchResult>> e : series.entrySet()) {
            BenchResult x = e.getValue().getFirst();
            names.add((oneExperiment ? "" : x.experiment() + ": ") + (oneFunction ? "" : x.function() + " · ") + x.mode()
                    + (oneInput ? "" : " · " + x.input()));
            colors.add(oneFunction && oneInput && oneExperiment ? modeColor(x.mode(), i) : EXTRA[i % EXTRA.length]);
            i++;
        }
        int width = Math.max(800, 200 + xs.size() * 140);
        Plot p = new Plot(width, 560);
        String fn = series.values().iterator().next().getFirst().function();
        int y = p.title("Latency under concurrent start-ups" + (oneFunction ? " (" + fn + ")" : ""),
                "median latency per invocation when P invocations start at once (each a restore, except warm); whiskers min–max");
        int legendH = p.legend(names, colors, 90, y + 16, width - 110, true);
        Rectangle area = new Rectangle(90, y + legendH + 40, width - 130, 0);
        area.height = p.height - area.y - 60;
        double max = series.values().stream().flatMap(List::stream).mapToDouble(x -> x.totalMs().max()).max().orElse(1);
        Plot.Scale s = Plot.linear(max * 1.08);
        p.yAxis(area, s, "latency per invocation, ms");
        double step = area.width / (double) xs.size();
        for (int k = 0; k < xs.size(); k++) {
            p.centred(Plot.SMALL, Plot.MUTED, Integer.toString(xs.get(k)), area.x + step * (k + 0.5), area.y + area.height + 16);
        }
        p.centred(Plot.LABEL, Plot.INK, "concurrent invocations (parallelism P)", area.x + area.width / 2.0, area.y + area.height + 36);

        // Labels sit right of their points; at each level they are pushed apart vertically so they never overlap.
        Map<Integer, List<double[]>> labelsAt = new LinkedHashMap<>(); // level -> {y, series, value}
        int si = 0;
        for (List<BenchResult> l : series.values()) {
            Color c = colors.get(si);
            double offset = (si - (series.size() - 1) / 2.0) * 6; // keep whiskers of different series apart
            Path2D.Double line = new Path2D.Double();
            boolean started = false;
            for (BenchResult x : l) {
                double px = area.x + step * (xs.indexOf(x.parallelism()) + 0.5) + offset;
                double py = yOf(area, s, x.totalMs().median());
                whisker(p, px, yOf(area, s, x.totalMs().min()), yOf(area, s, x.totalMs().max()), c);
                if (started) line.lineTo(px, py);
                else line.moveTo(px, py);
                started = true;
                labelsAt.computeIfAbsent(x.parallelism(), k -> new ArrayList<>()).add(new double[]{py + 4, si, x.totalMs().median()});
            }
            p.g.setColor(c);
            p.g.setStroke(new BasicStroke(2.2f));
            p.g.draw(line);
            for (BenchResult x : l) {
                double px = area.x + step * (xs.indexOf(x.parallelism()) + 0.5) + offset;
                p.g.fill(new Ellipse2D.Double(px - 4.5, yOf(area, s, x.totalMs().median()) - 4.5, 9, 9));
            }
            si++;
        }
        double rightOfPoints = (series.size() - 1) / 2.0 * 6 + 9;
        for (Map.Entry<Integer, List<double[]>> e : labelsAt.entrySet()) {
            List<double[]> labels = new ArrayList<>(e.getValue());
            labels.sort(Comparator.comparingDouble(a -> a[0]));
            double px = area.x + step * (xs.indexOf(e.getKey()) + 0.5) + rightOfPoints;
            double prev = Double.NEGATIVE_INFINITY;
            for (double[] a : labels) {
                double ly = Math.max(a[0], prev + 14);
                String label = Plot.number(a[2]);
                p.g.setColor(new Color(255, 255, 255, 210)); // keeps the label readable where it crosses a line
                p.g.fill(new Rectangle.Double(px - 2, ly - 11, p.textWidth(Plot.SMALL, label) + 4, 14));
                p.text(Plot.SMALL, colors.get((int) a[1]).darker(), label, px, ly);
                prev = ly;
            }
        }
        return new Chart("concurrency.png", "Concurrent start-ups",
                "P invocations of the same function started at the same moment, each restoring its own VM (for the restore "
                        + "modes): how latency per invocation grows when restores compete for the disk and the CPUs. "
                        + "Points are medians over all invocations at that level.", p.finish());
    }
}
