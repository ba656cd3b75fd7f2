package dev.thaw.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The simulator's workload: an Azure Functions 2019 trace directory ({@code invocations.csv}
 * per-minute counts, {@code durations.csv} and {@code memory.csv} percentiles), read strictly,
 * turned into arrivals. A sample trace has a handful of functions while a 1,000-node cluster
 * needs thousands, so each trace function can be replicated ({@code copies}): every copy keeps
 * its original's per-minute counts, duration and memory, with its own arrival times.
 *
 * <p>Arrivals in a minute are exponential inter-arrival times rescaled to fill the minute (as
 * vHive's invitro and {@code thaw load} do), from a {@link SplittableRandom} per function copy
 * split off the seed in a fixed order: the same seed gives the same arrivals.
 */
final class SimTrace {
    /** One simulated function: its per-minute counts, duration (median ms) and memory (MiB). */
    record Function(String name, int[] perMinute, double durationMs, int memoryMib) {}

    /** Arrivals, sorted: time (ms from the start) and the function's index. */
    record Arrivals(double[] atMs, int[] function, List<Function> functions) {
        int size() {
            return atMs.length;
        }
    }

    private SimTrace() {}

    static List<Function> read(Path dir, int startMinute, int minutes) throws IOException {
        List<String[]> inv = csv(dir.resolve("invocations.csv"));
        Map<String, Double> durations = column(csv(dir.resolve("durations.csv")), "percentile_Average_50", 2);
        Map<String, Double> memory = Files.exists(dir.resolve("memory.csv"))
                ? column(csv(dir.resolve("memory.csv")), "AverageAllocatedMb_pct50", 1) : Map.of();
        String[] header = inv.getFirst();
        int first = -1;
        for (int i = 0; i < header.length; i++) if (header[i].matches("\\d+")) { first = i; break; }
        if (first < 0) throw new IllegalArgumentException(dir.resolve("invocations.csv") + ": no minute columns (1, 2, …) in the header");
        int available = header.length - first;
        if (startMinute < 0 || startMinute >= available) throw new IllegalArgumentException("--start-minute must be 0.." + (available - 1));
        int n = Math.min(minutes, available - startMinute);
        List<Function> out = new ArrayList<>();
        for (String[] row : inv.subList(1, inv.size())) {
            if (row.length != header.length) throw new IllegalArgumentException(dir.resolve("invocations.csv") + ": a row has "
                    + row.length + " fields, the header " + header.length);
            int[] counts = new int[n];
            for (int m = 0; m < n; m++) counts[m] = Integer.parseInt(row[first + startMinute + m].trim());
            String fn = row[2];
            Double d = durations.get(fn);
            if (d == null) throw new IllegalArgumentException(dir.resolve("durations.csv") + " has no row for function " + fn);
            Double mem = memory.get(row[1]); // memory.csv is per application
            out.add(new Function(fn.substring(0, Math.min(12, fn.length())), counts, d, mem == null ? 128 : (int) Math.round(mem)));
        }
        return out;
    }

    /** Replicates each function {@code copies} times and draws the arrivals. */
    static Arrivals arrivals(List<Function> base, int copies, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        List<Function> functions = new ArrayList<>();
        List<double[]> times = new ArrayList<>();
        for (int c = 0; c < copies; c++) {
            for (Function f : base) {
                SplittableRandom r = root.split();
                int index = functions.size();
                functions.add(copies == 1 ? f : new Function(f.name() + "#" + c, f.perMinute(), f.durationMs(), f.memoryMib()));
                for (int m = 0; m < f.perMinute().length; m++) {
                    int k = f.perMinute()[m];
                    if (k == 0) continue;
                    double[] gaps = new double[k + 1];
                    double sum = 0;
                    for (int i = 0; i <= k; i++) { gaps[i] = -Math.log(1 - r.nextDouble()); sum += gaps[i]; }
                    double t = m * 60_000.0;
                    for (int i = 0; i < k; i++) {
                        t += gaps[i] / sum * 60_000.0;
                        times.add(new double[]{t, index});
                    }
                }
            }
        }
        times.sort((a, b) -> Double.compare(a[0], b[0]));
        double[] at = new double[times.size()];
        int[] fn = new int[times.size()];
        for (int i = 0; i < at.length; i++) { at[i] = times.get(i)[0]; fn[i] = (int) times.get(i)[1]; }
        return new Arrivals(at, fn, functions);
    }

    private static List<String[]> csv(Path file) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file)) if (!line.isBlank()) rows.add(line.split(",", -1));
        if (rows.isEmpty()) throw new IllegalArgumentException(file + " is empty");
        return rows;
    }

    private static Map<String, Double> column(List<String[]> rows, String name, int keyColumn) {
        String[] header = rows.getFirst();
        int col = -1;
        for (int i = 0; i < header.length; i++) if (header[i].equals(name)) col = i;
        if (col < 0) throw new IllegalArgumentException("no column " + name + " in a trace file");
        Map<String, Double> out = new HashMap<>();
        for (String[] r : rows.subList(1, rows.size())) out.put(r[keyColumn], Double.parseDouble(r[col]));
        return out;
    }
}
