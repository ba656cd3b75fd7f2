package dev.thaw.load;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The load generator's entry point: what {@code thaw load} (in {@code dev.thaw.cli}) calls. Apart
 * from this class, {@link LoadSession} and {@link LoadResult}, the package shows the rest of thaw
 * only {@link LoopbackServer} (the self-test server), {@link Durations} (the duration syntax of its
 * options) and {@link WorkloadException}; schedules, the runner and the report stay inside.
 *
 * <p>A run takes three steps, each a value. A {@code LoadTest} is what to send: a workload file,
 * or the self-test's synthetic load, with the command line's {@link Overrides} applied and checked.
 * {@link #session} binds it to a target and the run's {@link Settings} and builds the schedule. The
 * {@link LoadSession} then describes that schedule (a dry run) or plays it and returns a
 * {@link LoadResult}. The steps are apart because the command acts between them: it starts the
 * self-test server only once the self-test's options are known to be good, and it installs its
 * Ctrl-C hook only once the warm-up is over.
 *
 * <p>Errors: {@link WorkloadException} for a workload file or trace that cannot be used, and
 * IllegalArgumentException for a bad value; the messages name the file, or the {@code thaw load}
 * option, at fault.
 */
public final class LoadTest {

    /** Workload values given on the command line; a null keeps the workload's own. */
    public record Overrides(Double speed, Double rateScale, String mode, Long seed) {}

    /**
     * How a run sends; each is the {@code thaw load} option of the same name, where it is explained.
     *
     * @param preconnect    negative: as many as the schedule's busiest 25 ms sends, at least 8
     * @param progress      period of the progress line on the session's log; zero for none
     * @param warmup        self-test only: the least time to warm up, unrecorded; zero for none
     * @param keepInstances record the instance of each invocation, for {@link LoadResult#writeCsv}
     */
    public record Settings(int connections, int preconnect, Duration timeout, Duration connectTimeout,
                           Duration progress, Duration tick, Duration spin, Duration warmup, boolean realtime,
                           boolean keepInstances) {}

    /** The self-test's {@code --rate} and {@code --arrival}, as given, for the report. */
    record SelfTest(double rate, String arrival) {}

    final Workload workload;
    /** Null for a workload file. */
    final SelfTest selfTest;

    private LoadTest(Workload workload, SelfTest selfTest) {
        this.workload = workload;
        this.selfTest = selfTest;
    }

    /** The workload in {@code file}, read strictly, with {@code overrides} applied. */
    public static LoadTest read(Path file, Overrides overrides) {
        Workload w = Workload.read(file)
                .withOverrides(overrides.speed(), overrides.rateScale(), overrides.mode(), overrides.seed());
        return new LoadTest(w, null);
    }

    /**
     * The self-test: one function at {@code rate} invocations per second for {@code duration},
     * {@code arrival} poisson or constant. The speed override does not apply: a self-test plays its
     * rate as given.
     */
    public static LoadTest selfTest(double rate, Duration duration, String arrival, Overrides overrides) {
        if (!(rate > 0)) {
            throw new IllegalArgumentException("--rate must be positive");
        }
        SyntheticSource.Process process;
        try {
            process = SyntheticSource.Process.parse(arrival);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--arrival must be poisson or constant, not '" + arrival + "'");
        }
        Workload w = Workload.selfTest(rate, duration, process)
                .withOverrides(null, overrides.rateScale(), overrides.mode(), overrides.seed());
        return new LoadTest(w, new SelfTest(rate, arrival));
    }

    /** This load against {@code targetUrl} (the daemon's base URL), with its schedule built. */
    public LoadSession session(String targetUrl, Settings settings) {
        return new LoadSession(this, Target.parse(targetUrl), settings);
    }
}
