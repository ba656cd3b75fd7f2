package dev.thaw.cli;

import dev.thaw.client.DaemonClient;
import dev.thaw.client.DaemonException;
import dev.thaw.client.DaemonUnreachableException;
import dev.thaw.flow.AsyncPolicy;
import dev.thaw.flow.FlowAnalysis;
import dev.thaw.flow.FlowReport;
import dev.thaw.flow.OutputFormat;
import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code thaw flow}: dependency-flow analysis of traces from files or from the daemon. */
@Command(name = "flow", mixinStandardHelpOptions = true,
        description = {
                "Dependency-flow analysis of traces of functions that call functions: the call graph "
                        + "(calls, error rate, latency percentiles per edge), the critical path of each trace, "
                        + "each function's share of it, bottlenecks, the cold starts that lay on critical paths, "
                        + "and which functions to keep warm or restore ahead of their callers.",
                "Reads Jaeger JSON (the query API's {\"data\": [...]}) or Zipkin v2 JSON (an array of spans); "
                        + "the format is detected. A span's function is its service name."},
        footer = {"", "Examples:",
                "  thaw flow traces.json",
                "  thaw flow --daemon http://127.0.0.1:8080 --limit 500 --format html -o flow.html",
                "  thaw flow a.json b.json --format json --async clip"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:report written", "1:unreadable or malformed input, or the daemon failed", "2:bad usage"})
public final class FlowCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", arity = "0..*",
            description = "Trace files (Jaeger or Zipkin v2 JSON); '-' reads standard input. "
                    + "Spans of one trace id are merged across files.")
    List<String> files = new ArrayList<>();

    @Option(names = "--daemon", paramLabel = "URL",
            description = "Fetch traces from thaw's daemon: GET URL/traces?limit=N[&function=F][&since=S].")
    URI daemon;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
            description = "Output: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). "
                    + "html is one self-contained page with the graph drawn as inline SVG.")
    OutputFormat format;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the report to FILE instead of standard output.")
    Path out;

    @Option(names = "--function", paramLabel = "NAME",
            description = "Only traces in which function NAME runs (also sent to the daemon).")
    String function;

    @Option(names = "--since", paramLabel = "WHEN",
            description = "With --daemon: only traces since WHEN, passed to the daemon as is (e.g. 10m or an RFC 3339 time).")
    String since;

    @Option(names = "--limit", paramLabel = "N",
            description = "At most N traces: asked of the daemon (default 100 there), first N of the files.")
    Integer limit;

    @Option(names = "--async", paramLabel = "POLICY", defaultValue = "follow",
            description = "Work that outlives its caller (FOLLOWS_FROM, or a child ending after its parent): "
                    + "follow = the trace ends with its last span and the critical path may run through async work; "
                    + "clip = Jaeger UI's rule, children clipped to their parent and FOLLOWS_FROM ignored "
                    + "(default: ${DEFAULT-VALUE}).")
    AsyncPolicy async;

    @Option(names = "--top", paramLabel = "N", defaultValue = "10",
            description = "Rows of each ranking in text and html output (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--traces", paramLabel = "N", defaultValue = "3",
            description = "Show the critical paths of the N slowest traces in text and html output (default: ${DEFAULT-VALUE}).")
    int traces;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (files.isEmpty() && daemon == null) {
            err.println("flow: give trace files or --daemon URL (see thaw flow --help)");
            return 2;
        }
        if (limit != null && limit <= 0 || top <= 0 || traces < 0) {
            err.println("flow: --limit and --top must be positive, --traces zero or more");
            return 2;
        }
        if (since != null && daemon == null) {
            err.println("flow: --since needs --daemon (trace files are analysed whole)");
            return 2;
        }
        List<Trace> read = new ArrayList<>();
        try {
            for (String file : files) {
                read.addAll(file.equals("-")
                        ? TraceReader.parse("stdin", new String(System.in.readAllBytes(), StandardCharsets.UTF_8)).traces()
                        : TraceReader.read(Path.of(file)).traces());
            }
            if (daemon != null) {
                try (DaemonClient client = new DaemonClient(daemon.toString())) {
                    String body = client.traces(limit == null ? 100 : limit, function, since);
                    read.addAll(TraceReader.parse(client.url() + "/traces", body).traces());
                }
            }
        } catch (IOException | IllegalArgumentException | DaemonException | DaemonUnreachableException e) {
            // IllegalArgumentException: a malformed trace file (TraceFormatException) or a bad --daemon URL.
            err.println("flow: " + e.getMessage());
            return 1;
        }
        List<Trace> selected = TraceReader.merge(read);
        if (function != null) {
            selected = selected.stream()
                    .filter(t -> t.spans().stream().anyMatch(s -> s.function().equals(function)))
                    .toList();
            if (selected.isEmpty()) {
                err.println("flow: no trace contains function " + function);
                return 1;
            }
        }
        if (limit != null && selected.size() > limit) {
            selected = selected.subList(0, limit);
        }
        FlowReport report = FlowAnalysis.analyze(selected, new FlowAnalysis.Options(async));
        String rendered = format.render(report, top, traces);
        if (out == null) {
            spec.commandLine().getOut().print(rendered);
            spec.commandLine().getOut().flush();
            return 0;
        }
        try {
            Files.writeString(out, rendered);
        } catch (IOException e) {
            err.println("flow: cannot write " + out + ": " + e.getMessage());
            return 1;
        }
        err.println("flow: wrote " + out + " (" + report.summary().traces() + " traces, "
                + report.summary().functions() + " functions)");
        return 0;
    }
}
