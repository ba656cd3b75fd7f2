package dev.thaw.load;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** Maps a source's functions and merges their arrivals, compressed by the speed factor, into one {@link Schedule}. */
final class ScheduleBuilder {
    private ScheduleBuilder() {}

    static Schedule build(Source.Generated generated, Mapping mapping, double speed) {
        if (!(speed > 0)) {
            throw new IllegalArgumentException("speed must be positive, got " + speed);
        }
        List<SourceFunction> fns = generated.functions();
        List<LoadFunction> mapped = new ArrayList<>();
        long total = 0;
        for (SourceFunction f : fns) {
            mapped.add(mapping.map(f));
            total += f.count();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new WorkloadException("the schedule has " + total + " invocations, more than one run can hold");
        }
        int n = (int) total;
        long[] at = new long[n];
        int[] function = new int[n];
        int[] duration = new int[n];
        int[] memory = new int[n];

        // k-way merge: every function's arrivals are already sorted.
        int[] cursor = new int[fns.size()];
        PriorityQueue<Integer> heads = new PriorityQueue<>((a, b) -> {
            int c = Double.compare(fns.get(a).arrivals()[cursor[a]], fns.get(b).arrivals()[cursor[b]]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int f = 0; f < fns.size(); f++) {
            if (fns.get(f).count() > 0) {
                heads.add(f);
            }
        }
        double nanosPerSecond = 1e9 / speed;
        for (int i = 0; i < n; i++) {
            int f = heads.poll();
            SourceFunction sf = fns.get(f);
            int k = cursor[f];
            at[i] = Math.round(sf.arrivals()[k] * nanosPerSecond);
            function[i] = f;
            duration[i] = Math.min(sf.durationMs()[k], mapping.maxDurationMs());
            memory[i] = Math.min(sf.memoryMib()[k], mapping.maxMemoryMib());
            if (++cursor[f] < sf.count()) {
                heads.add(f);
            }
        }
        // Rounding can only reorder equal instants; keep the array strictly non-decreasing.
        for (int i = 1; i < n; i++) {
            if (at[i] < at[i - 1]) {
                at[i] = at[i - 1];
            }
        }
        return new Schedule(mapped, at, function, duration, memory,
                Math.round(generated.windowSeconds() * nanosPerSecond));
    }
}
