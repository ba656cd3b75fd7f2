package dev.thaw.cli;

import dev.thaw.common.Json;
import dev.thaw.sim.Sim;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code thaw sim}: the cluster beyond this machine, simulated (docs/cluster.md). */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = {"Replay an Azure Functions 2019 trace against N simulated thaw nodes and compare routing policies and "
                + "keep-alive settings: cold starts, latency percentiles, memory. Latencies come from a thaw bench results "
                + "file; deterministic for a seed."})
final class SimCommand implements Callable<Integer> {
    @Option(names = "--trace", required = true, paramLabel = "DIR", description = "Azure 2019 trace directory (invocations.csv, durations.csv, memory.csv).")
    Path trace;

    @Option(names = "--bench", required = true, paramLabel = "FILE", description = "thaw bench results.json: the warm and restore costs.")
    Path bench;

    @Option(names = "--bench-function", defaultValue = "hello", description = "Function whose bench costs stand for all. Default: ${DEFAULT-VALUE}.")
    String benchFunction;

    @Option(names = "--restore-mode", defaultValue = "faasnap", description = "Bench mode a cold start costs (vanilla, reap, faasnap, …). Default: ${DEFAULT-VALUE}.")
    String restoreMode;

    @Option(names = "--nodes", defaultValue = "1000", description = "Simulated nodes (1 to 100000). Default: ${DEFAULT-VALUE}.")
    int nodes;

    @Option(names = "--copies", defaultValue = "1", description = "Replicate each trace function this many times (own arrivals): "
            + "a sample trace has a handful of functions, a large cluster needs thousands. Default: ${DEFAULT-VALUE}.")
    int copies;

    @Option(names = "--start-minute", defaultValue = "0", description = "First minute of the trace. Default: ${DEFAULT-VALUE}.")
    int startMinute;

    @Option(names = "--minutes", defaultValue = "60", description = "Minutes of the trace to replay. Default: ${DEFAULT-VALUE}.")
    int minutes;

    @Option(names = "--node-memory-mib", defaultValue = "16384", description = "Guest memory budget per node. Default: ${DEFAULT-VALUE}.")
    int nodeMemoryMib;

    @Option(names = "--node-max-instances", defaultValue = "64", description = "Instances per node. Default: ${DEFAULT-VALUE}.")
    int nodeMaxInstances;

    @Option(names = "--policy", split = ",", defaultValue = "locality,random,least-loaded",
            description = "Routing policies to compare. Default: ${DEFAULT-VALUE}.")
    List<String> policies;

    @Option(names = "--keep-alive", split = ",", defaultValue = "60,600", paramLabel = "SECONDS",
            description = "Idle keep-alive settings to compare. Default: ${DEFAULT-VALUE}.")
    List<Double> keepAlive;

    @Option(names = "--fetch-mib-per-s", defaultValue = "1000", description = "Peer snapshot fetch bandwidth (MiB/s). Default: ${DEFAULT-VALUE}.")
    double fetchMibPerSecond;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for arrivals and the random policy. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (nodes < 1 || nodes > 100_000) throw new IllegalArgumentException("--nodes must be 1..100000, got " + nodes);
        if (copies < 1 || minutes < 1) throw new IllegalArgumentException("--copies and --minutes must be at least 1");
        for (String p : policies) {
            if (!List.of("locality", "random", "least-loaded").contains(p)) {
                throw new IllegalArgumentException("--policy: \"" + p + "\" is not locality, random or least-loaded");
            }
        }
        for (double k : keepAlive) if (k < 0) throw new IllegalArgumentException("--keep-alive must be >= 0 seconds");
        var rows = Sim.run(new Sim.Options(trace, startMinute, minutes, copies, nodes, nodeMemoryMib, nodeMaxInstances, policies,
                keepAlive, bench, benchFunction, restoreMode, fetchMibPerSecond, seed), System.out);
        if (json != null) Files.writeString(json, Json.write(rows));
        return 0;
    }
}
