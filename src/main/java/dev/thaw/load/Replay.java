package dev.thaw.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The invocations a workload would send, as plain sorted arrays, for tools that replay a trace
 * without a daemon ({@code thaw sim}). It is the same {@link Schedule} {@code thaw load} plays,
 * built by the same sources, sampling and seeds, so a simulation and a load run of one workload
 * and seed see the same arrivals. Time is source time: the workload's {@code speed} is ignored
 * (a simulation has no wall clock to save, and compressing time would shrink idle times against
 * the keep-alive windows it studies).
 *
 * @param sources   per function index: its name in the source (trace hash or synthetic name)
 * @param targets   per function index: the deployed function the workload's mapping sends it to
 * @param at        arrival times, nanoseconds from the window's start, non-decreasing
 * @param function  per invocation: index into {@code sources}
 * @param durationMs per invocation: the source's duration (0 if it has none)
 * @param spanNanos the window's length, at least the last arrival
 * @param notes     facts about the source (window, sampling, functions left out)
 */
public record Replay(List<String> sources, List<String> targets, long[] at, int[] function, int[] durationMs,
                     long spanNanos, List<String> notes) {

    /** A workload file, with its {@code rate_scale} and {@code seed} overridden when given (null keeps the file's). */
    public static Replay ofWorkload(Path file, Double rateScale, Long seed) {
        Workload w = Workload.read(file).withOverrides(1.0, rateScale, null, seed);
        Source.Generated g = w.source().generate(w.rateScale(), w.seed());
        return of(ScheduleBuilder.build(g, w.mapping(), 1.0), g.notes());
    }

    /**
     * An Azure Functions 2019 trace directory ({@code invocations.csv}, {@code durations.csv},
     * optional {@code memory.csv}), minutes {@code [startMinute, startMinute + minutes)} (0: to the
     * end), {@code functions} sampled (0: all), exponential arrivals within each minute.
     */
    public static Replay ofAzure2019(Path dir, int startMinute, int minutes, int functions, double rateScale, long seed) {
        Path mem = dir.resolve("memory.csv");
        Source src = new Azure2019Source(dir.resolve("invocations.csv"), dir.resolve("durations.csv"),
                Files.exists(mem) ? mem : null, startMinute, minutes, functions, Arrivals.Kind.EXPONENTIAL);
        Source.Generated g = src.generate(rateScale, seed);
        return of(ScheduleBuilder.build(g, Mapping.spin(), 1.0), g.notes());
    }

    private static Replay of(Schedule s, List<String> notes) {
        return new Replay(s.functions.stream().map(LoadFunction::source).toList(),
                s.functions.stream().map(LoadFunction::target).toList(), s.at, s.function, s.durationMs, s.spanNanos,
                List.copyOf(notes));
    }

    public int size() {
        return at.length;
    }
}
