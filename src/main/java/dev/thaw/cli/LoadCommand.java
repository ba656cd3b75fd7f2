package dev.thaw.cli;

import dev.thaw.load.Durations;
import dev.thaw.load.LoadResult;
import dev.thaw.load.LoadSession;
import dev.thaw.load.LoadTest;
import dev.thaw.load.LoopbackServer;
import dev.thaw.load.WorkloadException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code thaw load}: trace-driven open-loop load against the daemon (or the self-test server).
 * The options, their checks and what is printed where are here; the load itself is
 * {@link LoadTest}'s.
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Trace-driven open-loop HTTP load: every invocation is sent at its scheduled time whether or not "
                        + "earlier ones were answered; latency is measured from the scheduled time.",
                "",
                "  thaw load WORKLOAD.json [--target URL] [--json FILE] [--csv FILE] [--dry-run]",
                "  thaw load --self-test --rate 20000 --duration 60s --json FILE",
                "  thaw load --serve-only --port 8099        (the self-test server alone, e.g. for wrk)",
                "",
                "Workload files: see docs/load.md and examples/load/."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the run completed (see the report for errors)", "1:the run could not start or failed",
                "2:bad command line or workload file"})
public final class LoadCommand implements Callable<Integer> {
    private static final String DEFAULT_TARGET = "http://127.0.0.1:8080";

    @Parameters(index = "0", arity = "0..1", paramLabel = "WORKLOAD", description = "Workload file (JSON).")
    Path workloadFile;

    @Option(names = "--target", paramLabel = "URL",
            description = "Daemon base URL (default: http://127.0.0.1:8080; with --self-test: its own server).")
    String target;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the report (summary, functions, per minute) as JSON.")
    Path json;

    @Option(names = "--csv", paramLabel = "FILE", description = "Write one CSV row per invocation.")
    Path csv;

    @Option(names = "--dry-run", description = "Print the schedule's statistics and send nothing.")
    boolean dryRun;

    @Option(names = "--speed", paramLabel = "X",
            description = "Time compression: play the trace X times faster (overrides the workload's speed).")
    Double speed;

    @Option(names = "--rate-scale", paramLabel = "X",
            description = "Multiply the number of invocations by X (overrides the workload's rate_scale).")
    Double rateScale;

    @Option(names = "--mode", paramLabel = "MODE",
            description = "Restore mode sent as ?mode= (cold, warm, vanilla, cached, reap, faasnap); overrides the workload's.")
    String mode;

    @Option(names = "--seed", paramLabel = "N", description = "Seed for sampling, arrivals and draws (overrides the workload's).")
    Long seed;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "512",
            description = "Maximum concurrent connections (default: ${DEFAULT-VALUE}); beyond it invocations wait and the wait shows as schedule lag.")
    int connections;

    @Option(names = "--preconnect", paramLabel = "N", defaultValue = "-1",
            description = "Connections opened before the first invocation is due (default: as many as the busiest 25 ms "
                    + "of the schedule sends, at least 8, at most --connections).")
    int preconnect;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s", converter = DurationConverter.class,
            description = "Per-invocation limit from sending to the complete answer (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
            description = "Limit for opening a connection (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--progress", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
            description = "Period of the progress line on stderr; 0 turns it off (default: ${DEFAULT-VALUE}).")
    Duration progress;

    @Option(names = "--tick", paramLabel = "DURATION", defaultValue = "500us", converter = DurationConverter.class,
            description = "With invocations due within a few ms, the generator wakes at most once per tick, sends all that is due "
                    + "as a batch and reads answers: less CPU at high rates, at most a tick of added lag and of latency "
                    + "resolution (default: ${DEFAULT-VALUE}).")
    Duration tick;

    @Option(names = "--spin", paramLabel = "DURATION", defaultValue = "0us", converter = DurationConverter.class,
            description = "Busy-wait this long before a due time instead of sleeping; costs CPU (default: ${DEFAULT-VALUE}).")
    Duration spin;

    @Option(names = "--realtime",
            description = "Run the generator's loop thread (and the self-test server's thread) with SCHED_FIFO priority, so "
                    + "that other work on the machine cannot delay sends; needs root or CAP_SYS_NICE. Off by default.")
    boolean realtime;

    @Option(names = "--self-test", description = "Measure the generator alone: --rate requests/s for --duration against a trivial "
            + "loopback server (its own, unless --target names one, e.g. a --serve-only process).")
    boolean selfTest;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "20000",
            description = "Self-test: requests per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--duration", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
            description = "Self-test: length of the run (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--arrival", paramLabel = "KIND", defaultValue = "poisson",
            description = "Self-test: poisson or constant arrivals (default: ${DEFAULT-VALUE}).")
    String arrival;

    @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "3s", converter = DurationConverter.class,
            description = "Self-test: run at the same rate first, unrecorded, for at least this long and until the JIT "
                    + "has settled (at most 30 s), so that compiled code is measured (default: ${DEFAULT-VALUE}; 0 for none).")
    Duration warmup;

    @Option(names = "--serve-only", description = "Run only the self-test server, print its address, and keep it up.")
    boolean serveOnly;

    @Option(names = "--port", paramLabel = "P", defaultValue = "0",
            description = "Self-test server port (default: any free port).")
    int port;

    @Option(names = "--serve-for", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
            description = "--serve-only: stop after this long; 0 means until interrupted (default: ${DEFAULT-VALUE}).")
    Duration serveFor;

    @Option(names = "--server-threads", paramLabel = "N", defaultValue = "1",
            description = "Self-test server selector threads (default: ${DEFAULT-VALUE}).")
    int serverThreads;

    private final PrintStream out = System.out;
    private final PrintStream err = System.err;

    @Override
    public Integer call() {
        try {
            if (serveOnly) {
                return serve();
            }
            if (selfTest) {
                return selfTest();
            }
            if (workloadFile == null) {
                throw new IllegalArgumentException("a WORKLOAD file is required (or --self-test, or --serve-only); see --help");
            }
            return run(LoadTest.read(workloadFile, overrides()), target == null ? DEFAULT_TARGET : target);
        } catch (WorkloadException | IllegalArgumentException e) {
            err.println("thaw load: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("thaw load: " + e.getMessage());
            return 1;
        }
    }

    private int serve() throws IOException {
        try (LoopbackServer server = LoopbackServer.start(port, serverThreads, realtime)) {
            out.println("self-test server listening on " + server.url());
            out.flush();
            long ms = serveFor.toMillis();
            CountDownLatch never = new CountDownLatch(1);
            try {
                if (ms == 0) {
                    never.await();
                } else {
                    never.await(ms, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.println("self-test server stopping after " + server.requests() + " requests");
        }
        return 0;
    }

    private int selfTest() throws IOException {
        LoadTest test = LoadTest.selfTest(rate, duration, arrival, overrides());
        if (target != null) {
            return run(test, target);
        }
        try (LoopbackServer server = LoopbackServer.start(port, serverThreads, realtime)) {
            err.println("self-test server on " + server.url());
            int rc = run(test, server.url());
            err.println("self-test server answered " + server.requests() + " requests");
            return rc;
        }
    }

    private LoadTest.Overrides overrides() {
        return new LoadTest.Overrides(speed, rateScale, mode, seed);
    }

    private LoadTest.Settings settings() {
        return new LoadTest.Settings(connections, preconnect, timeout, connectTimeout, progress, tick, spin, warmup,
                realtime, csv != null);
    }

    private int run(LoadTest test, String targetUrl) throws IOException {
        LoadSession session = test.session(targetUrl, settings());
        if (dryRun) {
            session.printDryRun(out);
            if (json != null) {
                writeJson(json, session.dryRunJson());
            }
            return 0;
        }
        session.prepare(err);

        // Ctrl-C: stop sending, let in-flight invocations end as aborted, and still write the reports.
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            session.abort();
            try {
                reported.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "thaw-load-abort");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            LoadResult result = session.run();
            out.println();
            result.printTable(out);
            if (json != null) {
                writeJson(json, result.json());
            }
            if (csv != null) {
                result.writeCsv(csv);
            }
            return result.balanced() ? 0 : 1;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waits for the latch above
            }
        }
    }

    private static void writeJson(Path file, String json) throws IOException {
        Files.writeString(file, json + "\n");
    }

    /** Picocli converter for the options that take a duration ({@link Durations} syntax). */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Durations.parse(value);
        }
    }
}
