package dev.thaw.bench;

import dev.thaw.common.Percentiles;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Run-by-run comparisons of one cell with its twins in the same scenario (same function, input
 * and parallelism, another mode). The benchmark runs the modes in turns, so run k of every mode
 * lies seconds apart and shares the host's mood of the moment; a ratio taken inside a run is
 * steadier on a noisy host than a ratio of two medians taken minutes apart. Each run's latency is
 * the median of its concurrent invocations.
 */
final class Pairing {
    private Pairing() {}

    /** This cell's latency over {@code base}'s, run by run: the median ratio and the runs in which this cell was faster. */
    static BenchResult.Paired ratio(List<Invocation> cell, List<Invocation> base) {
        Map<Integer, Double> mine = perRun(cell), theirs = perRun(base);
        List<Double> ratios = new ArrayList<>();
        for (var e : mine.entrySet()) {
            Double b = theirs.get(e.getKey());
            if (b != null && b > 0) ratios.add(e.getValue() / b);
        }
        if (ratios.isEmpty()) return null;
        int faster = (int) ratios.stream().filter(x -> x < 1).count();
        return new BenchResult.Paired(Percentiles.median(ratios), faster, ratios.size());
    }

    /**
     * The share of the gap between {@code vanilla} and {@code cached} this cell closes, run by run:
     * (vanilla − this) / (vanilla − cached), 1 = as fast as cached, 0 = no faster than vanilla;
     * null when no run has all three or the gap never opened (cached not below vanilla).
     */
    static BenchResult.GapClosed gapClosed(List<Invocation> cell, List<Invocation> vanilla, List<Invocation> cached) {
        Map<Integer, Double> mine = perRun(cell), v = perRun(vanilla), c = perRun(cached);
        List<Double> shares = new ArrayList<>();
        List<Double> gaps = new ArrayList<>();
        for (var e : mine.entrySet()) {
            Double vk = v.get(e.getKey()), ck = c.get(e.getKey());
            if (vk == null || ck == null || vk <= 0) continue;
            gaps.add((vk - ck) / vk);
            if (vk > ck) shares.add((vk - e.getValue()) / (vk - ck));
        }
        if (shares.isEmpty()) return null;
        return new BenchResult.GapClosed(Percentiles.median(shares), Percentiles.median(gaps), shares.size());
    }

    private static Map<Integer, Double> perRun(List<Invocation> cell) {
        Map<Integer, List<Double>> byRun = new TreeMap<>();
        for (Invocation i : cell) if (i.ok()) byRun.computeIfAbsent(i.run(), k -> new ArrayList<>()).add(i.totalMs());
        Map<Integer, Double> out = new TreeMap<>();
        byRun.forEach((run, x) -> out.put(run, Percentiles.median(x)));
        return out;
    }
}
