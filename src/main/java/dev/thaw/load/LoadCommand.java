package dev.thaw.load;

import dev.thaw.sys.RealTime;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code thaw load}: trace-driven open-loop load against the daemon (or the self-test server). */
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

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s", converter = Durations.Converter.class,
            description = "Per-invocation limit from sending to the complete answer (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s", converter = Durations.Converter.class,
            description = "Limit for opening a connection (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--progress", paramLabel = "DURATION", defaultValue = "5s", converter = Durations.Converter.class,
            description = "Period of the progress line on stderr; 0 turns it off (default: ${DEFAULT-VALUE}).")
    Duration progress;

    @Option(names = "--tick", paramLabel = "DURATION", defaultValue = "500us", converter = Durations.Converter.class,
            description = "With invocations due within a few ms, the generator wakes at most once per tick, sends all that is due "
                    + "as a batch and reads answers: less CPU at high rates, at most a tick of added lag and of latency "
                    + "resolution (default: ${DEFAULT-VALUE}).")
    Duration tick;

    @Option(names = "--spin", paramLabel = "DURATION", defaultValue = "0us", converter = Durations.Converter.class,
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

    @Option(names = "--duration", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.Converter.class,
            description = "Self-test: length of the run (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--arrival", paramLabel = "KIND", defaultValue = "poisson",
            description = "Self-test: poisson or constant arrivals (default: ${DEFAULT-VALUE}).")
    String arrival;

    @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "3s", converter = Durations.Converter.class,
            description = "Self-test: run at the same rate first, unrecorded, for at least this long and until the JIT "
                    + "has settled (at most 30 s), so that compiled code is measured (default: ${DEFAULT-VALUE}; 0 for none).")
    Duration warmup;

    @Option(names = "--serve-only", description = "Run only the self-test server, print its address, and keep it up.")
    boolean serveOnly;

    @Option(names = "--port", paramLabel = "P", defaultValue = "0",
            description = "Self-test server port (default: any free port).")
    int port;

    @Option(names = "--serve-for", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.Converter.class,
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
                throw new WorkloadException("a WORKLOAD file is required (or --self-test, or --serve-only); see --help");
            }
            Workload w = Workload.read(workloadFile).withOverrides(speed, rateScale, mode, seed);
            return run(w, target == null ? "http://127.0.0.1:8080" : target);
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
        if (!(rate > 0)) {
            throw new IllegalArgumentException("--rate must be positive");
        }
        SyntheticSource.Process process;
        try {
            process = SyntheticSource.Process.parse(arrival);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--arrival must be poisson or constant, not '" + arrival + "'");
        }
        Workload w = Workload.selfTest(rate, duration, process).withOverrides(null, rateScale, mode, seed);
        if (target != null) {
            return run(w, target);
        }
        try (LoopbackServer server = LoopbackServer.start(port, serverThreads, realtime)) {
            err.println("self-test server on " + server.url());
            int rc = run(w, server.url());
            err.println("self-test server answered " + server.requests() + " requests");
            return rc;
        }
    }

    /**
     * Unrecorded one-second runs at the self-test's rate until the JIT has settled (less than
     * 20 ms of compilation in the last second, after at least {@code --warmup}, at most 30 s):
     * on a busy two-core machine the compiler threads can take several seconds to finish the
     * hot path, and until then it runs slow, profiled code.
     */
    private void warmUp(Workload w, Target t, boolean keepInstances) throws IOException {
        if (!selfTest || warmup.isZero()) {
            return;
        }
        // The same options as the measured run, progress lines included (to nowhere, often):
        // a code path first taken during the measured run would be compiled during it, and
        // a class first loaded then can throw compiled code away (deoptimisation) mid-run.
        var options = runnerOptions(Duration.ofMillis(250), keepInstances);
        PrintStream nowhere = new PrintStream(java.io.OutputStream.nullOutputStream());
        SyntheticSource.Fn fn = ((SyntheticSource) w.source()).functions().getFirst();
        Workload warm = Workload.selfTest(fn.rate() * w.rateScale(), Duration.ofSeconds(1), fn.process());
        Schedule schedule = warm.schedule();
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long began = System.nanoTime();
        long limit = began + Math.max(warmup.toNanos(), Duration.ofSeconds(30).toNanos());
        long requests = 0;
        long compiledLast = Long.MAX_VALUE;
        long before = timed ? jit.getTotalCompilationTime() : 0;
        while (true) {
            var runner = new LoadRunner(schedule, new RequestTemplates(schedule, t.hostHeader(), t.basePath(), w.mode()),
                    t.address(), options, nowhere);
            runner.run();
            requests += schedule.size();
            long after = timed ? jit.getTotalCompilationTime() : 0;
            compiledLast = after - before;
            before = after;
            long now = System.nanoTime();
            boolean longEnough = now - began >= warmup.toNanos();
            if ((longEnough && (!timed || compiledLast < 20)) || now > limit) {
                break;
            }
        }
        err.println(String.format(java.util.Locale.ROOT,
                "warm-up: %d requests in %.1f s, not recorded (JIT: %s ms of compilation in the last second)",
                requests, (System.nanoTime() - began) / 1e9, timed ? String.valueOf(compiledLast) : "?"));
    }

    private LoadRunner.Options runnerOptions(Duration progressEvery, boolean keepInstances) {
        return new LoadRunner.Options(connections, timeout, connectTimeout, spin.toNanos(), tick.toNanos(),
                Duration.ofMillis(200), progressEvery, keepInstances, preconnect);
    }

    private int run(Workload w, String targetUrl) throws IOException {
        Target t = Target.parse(targetUrl);
        Source.Generated generated = w.source().generate(w.rateScale(), w.seed());
        Schedule schedule = ScheduleBuilder.build(generated, w.mapping(), w.speed());
        ObjectNode workloadJson = describe(w, t);
        if (dryRun) {
            DryRun d = new DryRun(schedule);
            d.print(out, w, generated);
            if (json != null) {
                writeJson(json, d.toJson(workloadJson));
            }
            return 0;
        }
        for (String note : generated.notes()) {
            err.println("note: " + note);
        }
        RequestTemplates requests = new RequestTemplates(schedule, t.hostHeader(), t.basePath(), w.mode());
        LoadRunner runner = new LoadRunner(schedule, requests, t.address(), runnerOptions(progress, csv != null), err);
        // Building the schedule left garbage behind: collect it now, not in the measured run (which
        // allocates next to nothing). Before the warm-up, because a full collection can also
        // throw away compiled code.
        System.gc();
        // The runner runs on this thread: raise it for the warm-up and the run, and only then.
        boolean raised = realtime && RealTime.fifo(RealTime.PRIORITY);
        if (realtime && !raised) {
            err.println("warning: --realtime: could not get SCHED_FIFO (needs root or CAP_SYS_NICE); running at normal priority");
        }
        workloadJson.put("realtime", raised);
        warmUp(w, t, csv != null);
        err.println(String.format(java.util.Locale.ROOT, "sending %d invocations of %d function(s) over %.1f s to %s",
                schedule.size(), schedule.functions.size(), schedule.spanNanos / 1e9, t.base()));

        // Ctrl-C: stop sending, let in-flight invocations end as aborted, and still write the reports.
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            runner.abort();
            try {
                reported.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "thaw-load-abort");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Results results;
            try {
                results = runner.run();
            } finally {
                if (raised) {
                    RealTime.normal();
                }
            }
            Report report = new Report(schedule, results, runner.elapsedNanos());
            out.println();
            report.printTable(out);
            if (json != null) {
                writeJson(json, report.toJson(workloadJson));
            }
            if (csv != null) {
                report.writeCsv(csv);
            }
            return report.balanced() ? 0 : 1;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waits for the latch above
            }
        }
    }

    private ObjectNode describe(Workload w, Target t) {
        ObjectNode o = Json.object();
        o.put("name", w.name());
        o.put("source", w.source().getClass().getSimpleName().replace("Source", "").toLowerCase(java.util.Locale.ROOT));
        o.put("target", t.base());
        o.put("mode", w.mode());
        o.put("speed", w.speed());
        o.put("rate_scale", w.rateScale());
        o.put("seed", w.seed());
        o.put("connections", connections);
        o.put("timeout_s", timeout.toMillis() / 1000.0);
        o.put("mapping", w.mapping().kind().name().toLowerCase(java.util.Locale.ROOT));
        if (selfTest) {
            o.put("self_test_rate", rate);
            o.put("self_test_arrival", arrival);
        }
        o.put("java", Runtime.version().toString());
        o.put("cpus", Runtime.getRuntime().availableProcessors());
        return o;
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.writeString(file, Json.pretty(node) + "\n");
    }

    /** The daemon's base URL, resolved once. */
    record Target(String base, InetSocketAddress address, String hostHeader, String basePath) {
        static Target parse(String url) {
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("--target: '" + url + "' is not a URL");
            }
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("--target: '" + url + "' must be an http:// URL with a host");
            }
            int p = uri.getPort() < 0 ? 80 : uri.getPort();
            InetAddress addr;
            try {
                addr = InetAddress.getByName(uri.getHost());
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("--target: unknown host '" + uri.getHost() + "'");
            }
            String path = uri.getRawPath() == null ? "" : uri.getRawPath();
            while (path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            return new Target(url, new InetSocketAddress(addr, p), uri.getHost() + ":" + p, path);
        }
    }
}
