package dev.thaw.cli;

import dev.thaw.api.ApiServer;
import dev.thaw.bench.BenchReport;
import dev.thaw.bench.BenchRunner;
import dev.thaw.bench.Csv;
import dev.thaw.bench.Daemon;
import dev.thaw.bench.HostReport;
import dev.thaw.bench.HtmlReport;
import dev.thaw.bench.HttpDaemon;
import dev.thaw.bench.ReadAhead;
import dev.thaw.bench.Scenario;
import dev.thaw.common.ThawDirs;
import dev.thaw.platform.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code thaw bench}: run a benchmark scenario against a daemon and write a report. */
@Command(name = "bench", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        subcommands = {BenchCommand.Paper.class, BenchCommand.Report.class},
        description = {"Run a benchmark scenario (a JSON file naming functions, inputs, modes, runs and parallelism) "
                + "against a daemon — an embedded one unless --daemon is given — and write report.html with charts, "
                + "results.json (medians per function, mode, input and parallelism) and invocations.csv (every invocation).",
                "",
                "Functions missing on the daemon are deployed from the functions directory. Runs in modes that need a cold "
                        + "page cache (cold, vanilla, reap, reap-cache, faasnap, faasnap-sparse, uffd, thaw, unless the scenario says \"drop_cache\": false) start by "
                        + "dropping the function's snapshot files from the page cache; warm and cached runs never do. "
                        + "Modes the daemon does not support are reported and skipped.",
                ""},
        footer = {"", "Scenario format: docs/bench.md. Examples: examples/bench/. Built-in scenario: thaw bench paper --help.",
                "Exit status: 0 when the scenario ran to the end (skipped modes included), 1 when it stopped early, "
                        + "2 for a bad scenario or option."})
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SCENARIO", description = "Scenario file (JSON; format in docs/bench.md).")
    Path scenario;

    @Mixin
    Options options;

    @Mixin
    Boot boot;

    @Override
    public Integer call() throws Exception {
        if (scenario == null) {
            throw new IllegalArgumentException("give a scenario file (format: docs/bench.md, examples in examples/bench/), or run `thaw bench paper`");
        }
        return execute(Scenario.parse(scenario), options, boot);
    }

    /** Options every way of running a benchmark shares. */
    static final class Options {
        @Option(names = "--daemon", paramLabel = "URL",
                description = "Benchmark the daemon at this URL (e.g. http://127.0.0.1:8080) instead of starting an embedded one. "
                        + "It must run on this host: without its cache/drop endpoint, the benchmark drops the snapshot files "
                        + "from this host's page cache itself. --data-dir, --accel, --idle-timeout and --max-idle only apply "
                        + "to the embedded daemon.")
        String daemon;

        @Option(names = "--out", paramLabel = "DIR",
                description = "Directory for report.html, the chart PNGs, results.json and invocations.csv. Default: bench-results/<scenario>-<date-time>.")
        Path out;

        @Option(names = "--json", paramLabel = "FILE", description = "Also write the results (medians per function, mode, input and parallelism) as JSON to this file.")
        Path json;

        @Option(names = "--csv", paramLabel = "FILE", description = "Also write every invocation as a CSV row to this file.")
        Path csv;

        @Option(names = "--functions-dir", paramLabel = "DIR",
                description = "Where function directories (with function.json) are found. Default: $THAW_HOME/functions.")
        Path functionsDir;

        @Option(names = "--redeploy", description = "Deploy every function again (new snapshot) even when the daemon already has it.")
        boolean redeploy;

        @Option(names = "--read-ahead-kb", paramLabel = "N",
                description = "Run with read_ahead_kb N on the block device holding the snapshots (the daemon's data directory: "
                        + "--data-dir, or with --daemon the snapshots' directory), and put the old value back afterwards, also "
                        + "on failure or Ctrl-C. It decides how much each page fault reads from disk. Needs root.")
        Integer readAheadKb;

        @Option(names = "--dry-run", description = "Check the scenario and the functions' inputs, print what would run, and exit.")
        boolean dryRun;

        Path functionsDir() {
            return (functionsDir != null ? functionsDir : ThawDirs.home().resolve("functions")).toAbsolutePath();
        }
    }

    /** {@code thaw bench paper}: the built-in scenario that mirrors the REAP and FaaSnap evaluations. */
    @Command(name = "paper", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            description = {"Run the built-in scenario that mirrors the REAP and FaaSnap papers, in two experiments:",
                    "",
                    "modes: every function (or --functions) in the modes cold, vanilla, cached, reap, faasnap and warm, with "
                            + "its test input (not the one its snapshot was recorded with), --runs runs each, one at a time.",
                    "",
                    "concurrency: 1, 2, 4 and 8 simultaneous restores of --concurrency-function, vanilla and faasnap, "
                            + "--runs runs per level.",
                    "",
                    "The host's read_ahead_kb is recorded with the results; --read-ahead-kb runs with another setting.",
                    ""})
    static final class Paper implements Callable<Integer> {
        @Option(names = "--functions", split = ",", paramLabel = "NAME",
                description = "Functions to include. Default: every directory under the functions directory.")
        List<String> functions = new ArrayList<>();

        @Option(names = "--runs", defaultValue = "5", paramLabel = "N", description = "Runs per function, mode and parallelism level. Default: ${DEFAULT-VALUE}.")
        int runs;

        @Option(names = "--concurrency-function", defaultValue = "hello", paramLabel = "NAME",
                description = "Function of the concurrency experiment. Default: ${DEFAULT-VALUE}.")
        String concurrencyFunction;

        @Mixin
        Options options;

        @Mixin
        Boot boot;

        @Override
        public Integer call() throws Exception {
            return execute(Scenario.paper(functions, runs, concurrencyFunction), options, boot);
        }
    }

    /** {@code thaw bench report}: draw the report again from a results.json. */
    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Write report.html and the charts again from a results.json written by an earlier run (e.g. after editing it).")
    static final class Report implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "RESULTS", description = "A results.json from thaw bench.")
        Path results;

        @Option(names = "--out", paramLabel = "DIR", description = "Where to write the report. Default: the directory of RESULTS.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(results)) throw new IllegalArgumentException(results + " does not exist");
            BenchReport report = BenchReport.read(results);
            Path dir = out != null ? out : results.toAbsolutePath().getParent();
            System.out.println("wrote " + HtmlReport.write(report, dir));
            return 0;
        }
    }

    static int execute(Scenario raw, Options o, Boot boot) throws IOException {
        if (o.readAheadKb != null && o.readAheadKb < 0) throw new IllegalArgumentException("--read-ahead-kb must be 0 or more, got " + o.readAheadKb);
        Path functionsDir = o.functionsDir();
        Scenario scenario = raw.resolve(functionsDir);
        BenchRunner.loadSpecs(scenario, functionsDir); // every function and input exists, before any VM starts
        Boot.progress(String.format(Locale.ROOT, "scenario %s: %d experiment(s), %d runs, %d invocations",
                scenario.name(), scenario.experiments().size(), scenario.plannedRuns(), scenario.plannedInvocations()));
        for (Scenario.Experiment e : scenario.experiments()) {
            Boot.progress(String.format(Locale.ROOT, "  %s: functions %s, inputs %s, modes %s, parallelism %s, %d runs, %s",
                    e.name(), e.functions(), e.inputs(), e.modes(), e.parallelism(), e.runs(),
                    e.dropCache() ? "page cache dropped before each run (not for warm, cached)" : "page cache never dropped"));
        }
        if (o.dryRun) return 0;
        Path out = o.out != null ? o.out : Path.of("bench-results",
                scenario.name() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));

        Measured m;
        if (o.daemon != null) {
            HttpDaemon daemon = new HttpDaemon(o.daemon);
            daemon.health(); // fail now, with the URL in the message, if nothing answers
            m = measure(scenario, o, functionsDir, daemon, daemon.url(), daemonDataDir(daemon, boot));
        } else {
            Path dataDir = boot.dataDir != null ? boot.dataDir.toAbsolutePath() : ThawDirs.data();
            try (Platform platform = boot.start();
                 ApiServer api = new ApiServer(platform, new InetSocketAddress("127.0.0.1", 0), 6 << 20).start()) {
                Boot.progress("embedded daemon on " + api.url() + ", accelerator " + platform.accel().name().toLowerCase(Locale.ROOT));
                m = measure(scenario, o, functionsDir, new HttpDaemon(api.url()), "embedded (" + api.url() + ")", dataDir);
            }
        }

        BenchReport report = m.report();
        report.write(out.resolve("results.json"));
        Csv.write(m.outcome().invocations(), out.resolve("invocations.csv"));
        Path html = HtmlReport.write(report, out);
        if (o.json != null) report.write(o.json);
        if (o.csv != null) Csv.write(m.outcome().invocations(), o.csv);
        System.out.println();
        report.printTable(System.out);
        System.out.println();
        System.out.println("report:  " + html);
        System.out.println("results: " + out.resolve("results.json") + ", " + out.resolve("invocations.csv")
                + (o.json != null ? ", " + o.json : "") + (o.csv != null ? ", " + o.csv : ""));
        return report.aborted() == null ? 0 : 1;
    }

    private record Measured(BenchRunner.Outcome outcome, BenchReport report) {}

    /** Runs the scenario with the read-ahead override (if any) in force. */
    private static Measured measure(Scenario scenario, Options o, Path functionsDir, Daemon daemon, String label, Path dataDir)
            throws IOException {
        ReadAhead readAhead = null;
        if (o.readAheadKb != null) {
            Path file = ReadAhead.sysfsFile(dataDir);
            readAhead = ReadAhead.set(file, o.readAheadKb);
            Boot.progress("read_ahead_kb " + o.readAheadKb + " in " + file + " (was " + readAhead.setting().previousKb() + "; restored at the end)");
        }
        try {
            BenchRunner.Outcome outcome = new BenchRunner(daemon, functionsDir, o.redeploy, Boot::progress).run(scenario);
            // Read while the override is in force, so the report records the setting the runs used.
            HostReport host = HostReport.of(daemon.health().path("accel").asText("unknown"),
                    daemon.health().path("vmm_thp_advice").asText("unknown"), dataDir);
            return new Measured(outcome, BenchReport.of(outcome, label, host, readAhead == null ? null : readAhead.setting()));
        } finally {
            if (readAhead != null) readAhead.close();
        }
    }

    /** Where a remote daemon keeps its snapshots: --data-dir when given, else the directory GET /snapshots names. */
    private static Path daemonDataDir(HttpDaemon daemon, Boot boot) {
        if (boot.dataDir != null) return boot.dataDir.toAbsolutePath();
        for (var s : daemon.snapshots()) {
            if (s.path("path").isTextual()) return Path.of(s.path("path").asText());
        }
        return ThawDirs.data();
    }
}
