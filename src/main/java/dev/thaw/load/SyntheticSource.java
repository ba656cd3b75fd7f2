package dev.thaw.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A workload described by hand: named functions with a Poisson or constant rate, bursts
 * that multiply the rate of some (or all) functions for a while, and a total duration.
 */
record SyntheticSource(double durationSeconds, List<Fn> functions, List<Burst> bursts) implements Source {

    enum Process {
        POISSON, CONSTANT;

        static Process parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }
    }

    /** A function invoked {@code rate} times per second. {@code event} is a fixed JSON event or null. */
    record Fn(String name, double rate, Process process, int durationMs, int memoryMib, String event) {
    }

    /** From {@code start} for {@code length} seconds, the rate of {@code functions} (empty: all) is multiplied. */
    record Burst(double start, double length, double multiplier, List<String> functions) {
        boolean covers(String fn) {
            return functions.isEmpty() || functions.contains(fn);
        }
    }

    @Override
    public Generated generate(double rateScale, long seed) {
        List<SourceFunction> out = new ArrayList<>();
        for (Fn fn : functions) {
            double[] at = arrivals(fn, rateScale, Seeds.random(seed, "synthetic", fn.name()));
            int[] dur = new int[at.length];
            int[] mem = new int[at.length];
            java.util.Arrays.fill(dur, fn.durationMs());
            java.util.Arrays.fill(mem, fn.memoryMib());
            out.add(new SourceFunction(fn.name(), at, dur, mem, fn.durationMs(), fn.event()));
        }
        return new Generated(out, durationSeconds,
                List.of(functions.size() + " synthetic function(s), " + bursts.size() + " burst(s)"));
    }

    /** Arrivals of one function, piecewise over the intervals where its rate is constant. */
    double[] arrivals(Fn fn, double rateScale, SplittableRandom rnd) {
        TreeSet<Double> cuts = new TreeSet<>(List.of(0.0, durationSeconds));
        for (Burst b : bursts) {
            if (b.covers(fn.name())) {
                cuts.add(Math.min(durationSeconds, b.start()));
                cuts.add(Math.min(durationSeconds, b.start() + b.length()));
            }
        }
        Double[] edges = cuts.toArray(Double[]::new);
        DoubleList times = new DoubleList();
        double next = 0; // constant process: phase carried across pieces
        for (int p = 0; p + 1 < edges.length; p++) {
            double from = edges[p];
            double to = edges[p + 1];
            double rate = fn.rate() * rateScale * multiplier(fn.name(), (from + to) / 2);
            if (rate <= 0) {
                next = to;
                continue;
            }
            if (fn.process() == Process.POISSON) {
                // Memoryless: restarting the process at each edge keeps it a Poisson process.
                double t = from;
                while (true) {
                    t += -Math.log(1.0 - rnd.nextDouble()) / rate;
                    if (t >= to) {
                        break;
                    }
                    times.add(t);
                }
            } else {
                // Multiples of the period from the piece's first instant, so rounding cannot creep;
                // the tolerance keeps an arrival that lands on the edge in the next piece only.
                double first = Math.max(next, from);
                long k = 0;
                double t;
                while ((t = first + k / rate) < to - 1e-9) {
                    times.add(t);
                    k++;
                }
                next = first + k / rate;
            }
        }
        return times.toArray();
    }

    private double multiplier(String fn, double t) {
        double m = 1;
        for (Burst b : bursts) {
            if (b.covers(fn) && t >= b.start() && t < b.start() + b.length()) {
                m *= b.multiplier();
            }
        }
        return m;
    }

    /** A growable array of doubles. */
    static final class DoubleList {
        private double[] items = new double[64];
        private int size;

        void add(double v) {
            if (size == items.length) {
                items = java.util.Arrays.copyOf(items, size * 2);
            }
            items[size++] = v;
        }

        double[] toArray() {
            return java.util.Arrays.copyOf(items, size);
        }
    }
}
