package dev.thaw.cli;

import dev.thaw.common.Json;
import dev.thaw.load.Replay;
import dev.thaw.load.WorkloadException;
import dev.thaw.sim.BenchProfile;
import dev.thaw.sim.SimStudy;
import dev.thaw.sim.Simulator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code thaw sim}: a trace replayed against N simulated nodes, per routing policy and keep-alive (docs/cluster.md). */
@Command(name = "sim", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Replay an Azure Functions trace against N simulated nodes (a discrete-event simulation, no VMs)",
                "with latencies from a thaw bench results file, for every routing policy × keep-alive setting, using the",
                "platform's own RoutingPolicy and KeepAlivePolicy code. Prints one row per combination: calls, cold starts,",
                "latency p50/p99/p99.9, instance-seconds, idle memory-time, peak memory, 429s. Same inputs and seed: same JSON.",
                "",
                "  thaw sim --trace ../shared/traces/azure2019-example --bench docs/results/2026-11-28-paper-ra128/results.json \\",
                "           --nodes 1000 --policy locality,random,least-loaded --keepalive fixed:10m,histogram --json sim.json"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:simulated", "1:could not run", "2:bad command line, trace, workload or bench file"})
final class SimCommand implements Callable<Integer> {
    @Option(names = "--trace", required = true, paramLabel = "DIR|WORKLOAD.json",
            description = "An Azure Functions 2019 trace directory (invocations.csv, durations.csv, memory.csv), or a thaw load "
                    + "workload file (any source; its speed is ignored: simulated time is source time).")
    Path trace;

    @Option(names = "--bench", required = true, paramLabel = "RESULTS.json",
            description = "thaw bench --json results: per function, warm and restore latency (total_ms median, guest_exec) "
                    + "at parallelism 1, and memory_mib.")
    Path bench;

    @Option(names = "--nodes", defaultValue = "1000", paramLabel = "N", description = "Simulated nodes (1 to 100000). Default: ${DEFAULT-VALUE}.")
    int nodes;

    @Option(names = "--policy", defaultValue = "locality,random,least-loaded", paramLabel = "P[,P...]",
            description = "Routing policies to compare (locality, random, least-loaded: the gateway's). Default: ${DEFAULT-VALUE}.")
    String policies;

    @Option(names = "--keepalive", defaultValue = "fixed:10m,histogram", paramLabel = "K[,K...]",
            description = "Keep-alive settings to compare: fixed:DURATION (each instance stops DURATION after its last call) or "
                    + "histogram[:FALLBACK] (Shahrad et al.'s hybrid histogram, 1-minute bins over 4 h, learned per node; "
                    + "FALLBACK is its fixed keep-alive while unrepresentative, default 10m). Durations: 500ms, 30s, 10m, 1h. "
                    + "Default: ${DEFAULT-VALUE}.")
    String keepAlives;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S",
            description = "Seed of arrivals and sampling (as thaw load's) and of the random policy. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--start-minute", defaultValue = "0", paramLabel = "M",
            description = "Trace directory only: first minute of the window (0 = the first column). Default: ${DEFAULT-VALUE}.")
    int startMinute;

    @Option(names = "--minutes", defaultValue = "60", paramLabel = "M",
            description = "Trace directory only: length of the window in minutes (0 = to the end). Default: ${DEFAULT-VALUE}.")
    int minutes;

    @Option(names = "--functions", defaultValue = "0", paramLabel = "N",
            description = "Trace directory only: sample N functions as thaw load does (0 = all). Default: ${DEFAULT-VALUE}.")
    int functions;

    @Option(names = "--rate-scale", paramLabel = "X",
            description = "Multiply the invocations per minute by X (default 1, or the workload's rate_scale).")
    Double rateScale;

    @Option(names = "--restore-mode", defaultValue = "faasnap", paramLabel = "MODE",
            description = "Whose bench latency a restore costs: cold, vanilla, cached, reap or faasnap. Default: ${DEFAULT-VALUE}.")
    String restoreMode;

    @Option(names = "--map", defaultValue = "hash", paramLabel = "hash|workload|FUNCTION",
            description = "Which bench function each trace function behaves like: hash (FNV-1a of its name over the bench's "
                    + "functions), workload (the workload mapping's target), or one bench function for all. Default: ${DEFAULT-VALUE}.")
    String map;

    @Option(names = "--node-cores", defaultValue = "16", paramLabel = "N", description = "Cores per node (least-loaded divides by them). Default: ${DEFAULT-VALUE}.")
    int cores;

    @Option(names = "--node-memory-mib", defaultValue = "65536", paramLabel = "MIB", description = "Guest memory budget per node. Default: ${DEFAULT-VALUE}.")
    long memoryMib;

    @Option(names = "--node-max-instances", paramLabel = "N", description = "Instances per node (default: 8 per core, as thaw serve).")
    Integer maxInstances;

    @Option(names = "--default-memory-mib", defaultValue = "256", paramLabel = "MIB",
            description = "Guest memory of a bench function whose results give no memory_mib. Default: ${DEFAULT-VALUE}.")
    int defaultMemoryMib;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the inputs, the function mapping and every result as JSON.")
    Path json;

    @Override
    public Integer call() throws IOException {
        if (nodes < 1 || nodes > 100_000) throw new IllegalArgumentException("--nodes must be 1 to 100000, got " + nodes);
        if (rateScale != null && !(rateScale > 0 && rateScale <= 1e6)) throw new IllegalArgumentException("--rate-scale must be in (0, 1e6], got " + rateScale);
        if (defaultMemoryMib < 1) throw new IllegalArgumentException("--default-memory-mib must be positive");
        List<String> ps = list("--policy", policies);
        for (String p : ps) dev.thaw.gateway.RoutingPolicy.parse(p, null); // names checked before any work
        List<Simulator.KeepAlive> ks = list("--keepalive", keepAlives).stream().map(SimStudy::keepAlive).toList();
        Simulator.NodeShape shape = new Simulator.NodeShape(cores, memoryMib, maxInstances != null ? maxInstances : 8 * cores);
        BenchProfile profile = BenchProfile.read(bench, restoreMode, defaultMemoryMib);

        Replay replay;
        try {
            if (Files.isDirectory(trace)) {
                replay = Replay.ofAzure2019(trace, startMinute, minutes, functions, rateScale != null ? rateScale : 1.0, seed);
            } else {
                if (startMinute != 0 || minutes != 60 || functions != 0) {
                    throw new IllegalArgumentException("--start-minute, --minutes and --functions apply to a trace directory; "
                            + "a workload file sets them in its source");
                }
                replay = Replay.ofWorkload(trace, rateScale, seed);
            }
        } catch (WorkloadException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        Boot.progress("sim: " + replay.size() + " calls of " + replay.sources().size() + " functions over "
                + String.format("%.1f", replay.spanNanos() / 6e10) + " min, " + nodes + " nodes, " + ps.size() * ks.size() + " combinations");
        long[] last = {System.nanoTime()};
        SimStudy.Report report = SimStudy.run(trace.toString(), replay, profile, map, nodes, shape, ps, ks, seed,
                (combination, done, total) -> {
                    long now = System.nanoTime();
                    if (done == 0 || done == total || now - last[0] > 5_000_000_000L) {
                        last[0] = now;
                        Boot.progress("sim: " + combination + ": " + done + "/" + total + " calls routed");
                    }
                });
        System.out.print(SimStudy.table(report));
        if (json != null) {
            Files.writeString(json, Json.pretty(report) + "\n");
            Boot.progress("sim: wrote " + json);
        }
        return 0;
    }

    private static List<String> list(String option, String value) {
        List<String> out = Arrays.stream(value.split(",")).map(String::strip).toList();
        if (out.stream().anyMatch(String::isEmpty)) throw new IllegalArgumentException(option + " has an empty item: \"" + value + "\"");
        if (new LinkedHashSet<>(out).size() != out.size()) throw new IllegalArgumentException(option + " names an item twice: \"" + value + "\"");
        return out;
    }
}
