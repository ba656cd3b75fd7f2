package dev.thaw.load;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A window of an Azure Functions 2019 trace: minutes {@code [startMinute, startMinute + minutes)}
 * counted from the first minute column, {@code functions} of them sampled (0: all).
 */
record Azure2019Source(Path invocations, Path durations, Path memory, int startMinute, int minutes,
                       int functions, Arrivals.Kind arrivals) implements Source {

    @Override
    public Generated generate(double rateScale, long seed) {
        Azure2019Trace trace = Azure2019Trace.load(invocations, durations, memory);
        if (startMinute >= trace.minutes()) {
            throw new WorkloadException(invocations + ": start_minute " + startMinute + " is past the trace's "
                    + trace.minutes() + " minutes");
        }
        int length = minutes <= 0 ? trace.minutes() - startMinute : minutes;
        if (startMinute + length > trace.minutes()) {
            throw new WorkloadException(invocations + ": window of " + length + " minutes from start_minute "
                    + startMinute + " runs past the trace's " + trace.minutes() + " minutes");
        }
        List<String> notes = new ArrayList<>();
        if (trace.withoutDurations() > 0) {
            notes.add(trace.withoutDurations() + " function(s) of invocations.csv have no row in durations.csv and were left out");
        }

        // Only functions invoked in the window can contribute load.
        List<Azure2019Trace.Function> active = new ArrayList<>();
        List<int[]> windows = new ArrayList<>();
        for (Azure2019Trace.Function f : trace.functions()) {
            int[] w = new int[length];
            System.arraycopy(f.counts(), startMinute, w, 0, length);
            long sum = 0;
            for (int c : w) {
                sum += c;
            }
            if (sum > 0) {
                active.add(f);
                windows.add(w);
            }
        }
        int[] chosen = Sampler.sample(windows.toArray(int[][]::new), functions, seed);
        notes.add(String.format("minutes %s..%s of the trace (%d); %d of %d active functions%s",
                trace.minuteLabels()[startMinute], trace.minuteLabels()[startMinute + length - 1], length,
                chosen.length, active.size(), functions > 0 && functions < active.size() ? " sampled (stratified by popularity, closest per-minute shape)" : ""));

        List<SourceFunction> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int noMemory = 0;
        for (int idx : chosen) {
            Azure2019Trace.Function f = active.get(idx);
            String name = f.function();
            if (!names.add(name)) {
                name = f.app() + "/" + f.function();
                names.add(name);
            }
            int[] counts = Arrivals.scale(windows.get(idx), rateScale);
            double[] at = Arrivals.series(counts, arrivals, Seeds.random(seed, "arrivals", name));
            SplittableRandom draws = Seeds.random(seed, "draws", name);
            int[] dur = new int[at.length];
            int[] mem = new int[at.length];
            for (int k = 0; k < at.length; k++) {
                dur[k] = (int) Math.round(f.duration().draw(draws));
                mem[k] = f.memory() == null ? 0 : (int) Math.round(f.memory().draw(draws));
            }
            if (f.memory() == null) {
                noMemory++;
            }
            out.add(new SourceFunction(name, at, dur, mem, (int) Math.round(f.duration().median()), null));
        }
        if (noMemory > 0) {
            notes.add(noMemory + " chosen function(s) have no memory.csv row for their app: memory 0");
        }
        return new Generated(out, length * 60.0, notes);
    }
}
