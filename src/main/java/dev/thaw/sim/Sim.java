package dev.thaw.sim;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code thaw sim}'s entry: reads the trace and the bench costs, runs one {@link Simulator} per
 * policy × keep-alive on the same arrivals, prints a table and returns the rows.
 */
public final class Sim {
    /** What {@code thaw sim} was asked. */
    public record Options(Path trace, int startMinute, int minutes, int copies, int nodes, int nodeMemoryMib,
                          int nodeMaxInstances, List<String> policies, List<Double> keepAliveSeconds, Path bench,
                          String benchFunction, String restoreMode, double fetchMibPerSecond, long seed) {}

    private Sim() {}

    /** Host costs from a {@code thaw bench} results file: warm and restore overheads of one function (total minus guest time). */
    static Simulator.Costs costs(Path bench, String function, String restoreMode, double fetchMibPerSecond) throws IOException {
        JsonNode root = Json.MAPPER.readTree(bench.toFile());
        Double warm = null, restore = null;
        for (JsonNode r : root.path("results")) {
            if (!function.equals(r.path("function").asText()) || r.path("parallelism").asInt(1) != 1) continue;
            double overhead = r.path("total_ms").path("median").asDouble() - r.path("phases_ms").path("guest_exec").asDouble();
            if (r.path("mode").asText().equals("warm")) warm = overhead;
            if (r.path("mode").asText().equals(restoreMode)) restore = overhead;
        }
        if (warm == null || restore == null) {
            throw new IllegalArgumentException(bench + " has no " + (warm == null ? "warm" : restoreMode) + " result for " + function
                    + " (run thaw bench with that function and mode, or pick another with --bench-function/--restore-mode)");
        }
        return new Simulator.Costs(warm, restore, 1000.0 / fetchMibPerSecond);
    }

    public static List<Simulator.Result> run(Options o, PrintStream out) throws IOException {
        Simulator.Costs costs = costs(o.bench(), o.benchFunction(), o.restoreMode(), o.fetchMibPerSecond());
        SimTrace.Arrivals arrivals = SimTrace.arrivals(SimTrace.read(o.trace(), o.startMinute(), o.minutes()), o.copies(), o.seed());
        out.printf(Locale.ROOT, "%d nodes (%d MiB, %d instances each), %d functions, %d invocations over %d min; costs: warm %.1f ms, "
                        + "%s restore %.1f ms, fetch %.2f ms/MiB; seed %d%n", o.nodes(), o.nodeMemoryMib(), o.nodeMaxInstances(),
                arrivals.functions().size(), arrivals.size(), o.minutes(), costs.warmMs(), o.restoreMode(), costs.restoreMs(),
                costs.fetchMsPerMib(), o.seed());
        out.printf(Locale.ROOT, "%-13s %10s %12s %8s %9s %9s %10s %10s %12s %12s%n", "policy", "keep-alive", "invocations",
                "cold %", "fetches", "rejected", "p50 ms", "p99 ms", "mem GiB avg", "mem GiB peak");
        List<Simulator.Result> results = new ArrayList<>();
        for (double ka : o.keepAliveSeconds()) {
            for (String p : o.policies()) {
                Simulator.Result r = new Simulator(new Simulator.Config(o.nodes(), o.nodeMemoryMib(), o.nodeMaxInstances(), p,
                        ka * 1000, costs, o.seed()), arrivals).run();
                results.add(r);
                out.printf(Locale.ROOT, "%-13s %9.0fs %12d %8.2f %9d %9d %10.1f %10.1f %12.1f %12.1f%n", p, ka, r.invocations(),
                        100 * r.coldShare(), r.fetches(), r.rejected(), r.p50Ms(), r.p99Ms(), r.meanMemoryGib(), r.peakMemoryGib());
            }
        }
        return results;
    }
}
