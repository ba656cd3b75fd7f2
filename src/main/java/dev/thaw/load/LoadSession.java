package dev.thaw.load;

import dev.thaw.sys.RealTime;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;

/**
 * One {@link LoadTest} against one target with one set of {@link LoadTest.Settings}, its schedule
 * built: either described ({@link #printDryRun}, {@link #dryRunJson}) or played once
 * ({@link #prepare}, then {@link #run}).
 *
 * <p>Preparing is everything that must not happen during the measured run: the runner is built,
 * the garbage left by building the schedule is collected, the thread is raised to real-time
 * priority if asked, and a self-test warms the JIT up. {@link #prepare} and {@link #run} are
 * called on the same thread, because the loop runs on the caller's thread and {@code --realtime}
 * raises that thread from the one to the end of the other. Status lines (notes, warnings, the
 * warm-up, progress) go to the log given to {@link #prepare}; results come back as a
 * {@link LoadResult}.
 */
public final class LoadSession {
    /** Time between starting the runner and the schedule's first instant. */
    private static final Duration LEAD_IN = Duration.ofMillis(200);
    /** The warm-up's progress period: its lines go nowhere, but the code that prints them is warmed up too. */
    private static final Duration WARM_UP_PROGRESS = Duration.ofMillis(250);
    private static final Duration WARM_UP_LIMIT = Duration.ofSeconds(30);
    /** The JIT has settled when it compiled for less than this in the last second of warm-up. */
    private static final long SETTLED_COMPILE_MILLIS = 20;

    private final LoadTest test;
    private final Workload workload;
    private final Target target;
    private final LoadTest.Settings settings;
    private final Source.Generated generated;
    private final Schedule schedule;
    private final ObjectNode workloadJson;
    private DryRun dryRun;
    private volatile LoadRunner runner;
    private boolean raised;
    private com.fasterxml.jackson.databind.JsonNode statsBefore;

    LoadSession(LoadTest test, Target target, LoadTest.Settings settings) {
        this.test = test;
        this.workload = test.workload;
        this.target = target;
        this.settings = settings;
        this.generated = workload.source().generate(workload.rateScale(), workload.seed());
        this.schedule = ScheduleBuilder.build(generated, workload.mapping(), workload.speed());
        this.workloadJson = describe();
    }

    /** Prints the schedule's statistics ({@code --dry-run}): what would be sent, and when. */
    public void printDryRun(PrintStream out) {
        dryRun().print(out, workload, generated);
    }

    /** The same statistics and the workload, as pretty-printed JSON. */
    public String dryRunJson() {
        return Json.pretty(dryRun().toJson(workloadJson));
    }

    private DryRun dryRun() {
        if (dryRun == null) {
            dryRun = new DryRun(schedule);
        }
        return dryRun;
    }

    /**
     * Gets ready to send: notes on the workload, the runner, a garbage collection, real-time
     * priority if asked, a self-test's warm-up, and a line saying what is about to be sent; all of
     * it written to {@code log}, where the run's progress lines go too.
     */
    public void prepare(PrintStream log) throws IOException {
        for (String note : generated.notes()) {
            log.println("note: " + note);
        }
        RequestTemplates requests = new RequestTemplates(schedule, target.hostHeader(), target.basePath(), workload.mode());
        runner = new LoadRunner(schedule, requests, target.address(), options(settings.progress()), log);
        // Building the schedule left garbage behind: collect it now, not in the measured run (which
        // allocates next to nothing). Before the warm-up, because a full collection can also
        // throw away compiled code.
        System.gc();
        // The runner runs on this thread: raise it for the warm-up and the run, and only then.
        raised = settings.realtime() && RealTime.fifo(RealTime.PRIORITY);
        if (settings.realtime() && !raised) {
            log.println("warning: --realtime: could not get SCHED_FIFO (needs root or CAP_SYS_NICE); running at normal priority");
        }
        workloadJson.put("realtime", raised);
        try {
            warmUp(log);
        } catch (IOException | RuntimeException e) {
            lowerPriority();
            throw e;
        }
        if (test.selfTest == null) statsBefore = DaemonStats.read(target.base()); // outside the measured run
        log.println(String.format(Locale.ROOT, "sending %d invocations of %d function(s) over %.1f s to %s",
                schedule.size(), schedule.functions.size(), schedule.spanNanos / 1e9, target.base()));
    }

    /**
     * Plays the schedule on the calling thread (after {@link #prepare}) and returns when every
     * invocation has ended: answered, failed, or, after {@link #abort}, not sent.
     */
    public LoadResult run() throws IOException {
        LoadRunner r = runner;
        if (r == null) {
            throw new IllegalStateException("prepare the session before running it");
        }
        Results results;
        try {
            results = r.run();
        } finally {
            lowerPriority();
        }
        Report report = new Report(schedule, results, r.elapsedNanos());
        if (statsBefore != null) report.daemonCost(DaemonStats.diff(statsBefore, DaemonStats.read(target.base())));
        return new LoadResult(report, workloadJson);
    }

    /**
     * From any thread: stop sending. Unsent invocations end as not sent and in-flight ones as
     * aborted, and {@link #run} returns with all of them accounted for.
     */
    public void abort() {
        LoadRunner r = runner;
        if (r != null) {
            r.abort();
        }
    }

    private void lowerPriority() {
        if (raised) {
            RealTime.normal();
            raised = false;
        }
    }

    private LoadRunner.Options options(Duration progressEvery) {
        return new LoadRunner.Options(settings.connections(), settings.timeout(), settings.connectTimeout(),
                settings.spin().toNanos(), settings.tick().toNanos(), LEAD_IN, progressEvery,
                settings.keepInstances(), settings.preconnect());
    }

    /**
     * Unrecorded one-second runs at the self-test's rate until the JIT has settled (less than
     * 20 ms of compilation in the last second, after at least the warm-up time, at most 30 s):
     * on a busy two-core machine the compiler threads can take several seconds to finish the
     * hot path, and until then it runs slow, profiled code.
     */
    private void warmUp(PrintStream log) throws IOException {
        Duration least = settings.warmup();
        if (test.selfTest == null || least.isZero()) {
            return;
        }
        // The same options as the measured run, progress lines included (to nowhere, often):
        // a code path first taken during the measured run would be compiled during it, and
        // a class first loaded then can throw compiled code away (deoptimisation) mid-run.
        var options = options(WARM_UP_PROGRESS);
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        SyntheticSource.Fn fn = ((SyntheticSource) workload.source()).functions().getFirst();
        Workload warm = Workload.selfTest(fn.rate() * workload.rateScale(), Duration.ofSeconds(1), fn.process());
        Schedule warmSchedule = warm.schedule();
        var jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long began = System.nanoTime();
        long limit = began + Math.max(least.toNanos(), WARM_UP_LIMIT.toNanos());
        long requests = 0;
        long compiledLast = Long.MAX_VALUE;
        long before = timed ? jit.getTotalCompilationTime() : 0;
        while (true) {
            var templates = new RequestTemplates(warmSchedule, target.hostHeader(), target.basePath(), workload.mode());
            new LoadRunner(warmSchedule, templates, target.address(), options, nowhere).run();
            requests += warmSchedule.size();
            long after = timed ? jit.getTotalCompilationTime() : 0;
            compiledLast = after - before;
            before = after;
            long now = System.nanoTime();
            boolean longEnough = now - began >= least.toNanos();
            if ((longEnough && (!timed || compiledLast < SETTLED_COMPILE_MILLIS)) || now > limit) {
                break;
            }
        }
        log.println(String.format(Locale.ROOT,
                "warm-up: %d requests in %.1f s, not recorded (JIT: %s ms of compilation in the last second)",
                requests, (System.nanoTime() - began) / 1e9, timed ? String.valueOf(compiledLast) : "?"));
    }

    /** The workload and the settings, as the reports' JSON records them. */
    private ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("name", workload.name());
        o.put("source", workload.source().getClass().getSimpleName().replace("Source", "").toLowerCase(Locale.ROOT));
        o.put("target", target.base());
        o.put("mode", workload.mode());
        o.put("speed", workload.speed());
        o.put("rate_scale", workload.rateScale());
        o.put("seed", workload.seed());
        o.put("connections", settings.connections());
        o.put("timeout_s", settings.timeout().toMillis() / 1000.0);
        o.put("mapping", workload.mapping().kind().name().toLowerCase(Locale.ROOT));
        if (test.selfTest != null) {
            o.put("self_test_rate", test.selfTest.rate());
            o.put("self_test_arrival", test.selfTest.arrival());
        }
        o.put("java", Runtime.version().toString());
        o.put("cpus", Runtime.getRuntime().availableProcessors());
        return o;
    }
}
