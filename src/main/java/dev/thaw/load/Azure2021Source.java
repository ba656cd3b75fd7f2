package dev.thaw.load;

import dev.thaw.common.Percentiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A window of the Azure Functions 2021 per-invocation trace ({@code app,func,end_timestamp,duration},
 * seconds): an invocation arrived at {@code end_timestamp − duration}. Times are measured from
 * the trace's first arrival; the window is {@code [start, start + length)} (length ≤ 0: to the end).
 *
 * <p>The rate scale thins (below 1: each invocation kept with that probability) or multiplies
 * (above 1: extra copies at random times within the same minute), seeded.
 */
record Azure2021Source(Path file, double startSeconds, double lengthSeconds, int functions,
                       int memoryMib) implements Source {

    @Override
    public Generated generate(double rateScale, long seed) {
        Csv csv = Csv.read(file);
        int cApp = csv.column("app");
        int cFunc = csv.column("func");
        int cEnd = csv.column("end_timestamp");
        int cDuration = csv.column("duration");
        double first = Double.POSITIVE_INFINITY;
        double last = Double.NEGATIVE_INFINITY;
        double[] arrival = new double[csv.rows.size()];
        double[] duration = new double[csv.rows.size()];
        for (int r = 0; r < csv.rows.size(); r++) {
            String[] row = csv.rows.get(r);
            duration[r] = csv.number(row, cDuration, r);
            if (duration[r] < 0) {
                throw new WorkloadException(file + ": row " + (r + 2) + ": negative duration " + row[cDuration]);
            }
            arrival[r] = csv.number(row, cEnd, r) - duration[r];
            first = Math.min(first, arrival[r]);
            last = Math.max(last, arrival[r]);
        }
        if (csv.rows.isEmpty()) {
            throw new WorkloadException(file + ": no invocations");
        }
        double from = first + startSeconds;
        double length = lengthSeconds > 0 ? lengthSeconds : Math.max(last - from, 0) + 1e-3;
        if (from > last) {
            throw new WorkloadException(file + ": start " + startSeconds + " s is past the trace's last arrival at "
                    + String.format("%.3f", last - first) + " s");
        }

        // Group the window's invocations by function, in order of first appearance.
        Map<String, List<double[]>> byFunction = new LinkedHashMap<>();
        for (int r = 0; r < csv.rows.size(); r++) {
            double t = arrival[r] - from;
            if (t < 0 || t >= length) {
                continue;
            }
            String[] row = csv.rows.get(r);
            byFunction.computeIfAbsent(row[cApp] + "/" + row[cFunc], k -> new ArrayList<>())
                    .add(new double[]{t, duration[r]});
        }
        List<String> names = new ArrayList<>(byFunction.keySet());
        int minutes = (int) Math.ceil(length / 60.0);
        int[][] perMinute = new int[names.size()][minutes];
        for (int f = 0; f < names.size(); f++) {
            for (double[] inv : byFunction.get(names.get(f))) {
                perMinute[f][Math.min(minutes - 1, (int) (inv[0] / 60.0))]++;
            }
        }
        int[] chosen = Sampler.sample(perMinute, functions, seed);

        List<SourceFunction> out = new ArrayList<>();
        for (int idx : chosen) {
            String key = names.get(idx);
            String name = key.substring(key.indexOf('/') + 1);
            List<double[]> invs = scale(byFunction.get(key), rateScale, length, Seeds.random(seed, "scale", name));
            invs.sort((a, b) -> Double.compare(a[0], b[0]));
            double[] at = new double[invs.size()];
            int[] dur = new int[invs.size()];
            int[] mem = new int[invs.size()];
            for (int k = 0; k < at.length; k++) {
                at[k] = invs.get(k)[0];
                dur[k] = (int) Math.round(invs.get(k)[1] * 1000.0);
                mem[k] = memoryMib;
            }
            out.add(new SourceFunction(name, at, dur, mem, median(dur), null));
        }
        List<String> notes = List.of(String.format("%.1f s window from %.1f s; %d of %d functions",
                length, startSeconds, chosen.length, names.size()));
        return new Generated(out, length, notes);
    }

    private static List<double[]> scale(List<double[]> invs, double factor, double length, SplittableRandom rnd) {
        List<double[]> out = new ArrayList<>();
        for (double[] inv : invs) {
            int copies = (int) Math.floor(factor);
            if (rnd.nextDouble() < factor - copies) {
                copies++;
            }
            for (int c = 0; c < copies; c++) {
                if (c == 0) {
                    out.add(inv);
                } else {
                    double minuteStart = Math.floor(inv[0] / 60.0) * 60.0;
                    double end = Math.min(minuteStart + 60.0, length);
                    out.add(new double[]{minuteStart + rnd.nextDouble() * (end - minuteStart), inv[1]});
                }
            }
        }
        return out;
    }

    /** The nearest-rank median (the lower middle value of an even count); 0 when there are none. */
    private static int median(int[] values) {
        return (int) Percentiles.of(Arrays.stream(values).asLongStream().toArray(), 50).orElse(0);
    }
}
