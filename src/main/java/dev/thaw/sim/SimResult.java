package dev.thaw.sim;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.thaw.common.Percentiles;

/**
 * What one (routing policy, keep-alive) combination did over the whole replay. Times in ms,
 * memory-time in GiB·s (MiB·ns summed in doubles in event order, converted once), rounded to fixed
 * decimals so the JSON is the same bytes for the same seed.
 *
 * @param invocations   calls in the replay
 * @param served        calls some node took
 * @param coldStarts    served calls that restored an instance
 * @param rejected      calls every node refused (the gateway's 429)
 * @param prewarms      instances the keep-alive policy restored ahead of a call
 * @param evictions     idle instances stopped to make room for another
 * @param latencyMs     latency of served calls (nearest-rank percentiles)
 * @param instanceSeconds  Σ instance lifetimes (restore start to stop)
 * @param memoryGibS       Σ lifetime × guest memory
 * @param idleMemoryGibS   Σ idle time × guest memory (kept alive, serving nothing)
 * @param peakMemoryGib    most guest memory held at once across the cluster
 * @param simulatedSeconds simulated time, from the window's start to its end or the last call's end
 */
@JsonPropertyOrder({"policy", "keepalive", "invocations", "served", "cold_starts", "cold_start_pct", "rejected", "prewarms",
        "evictions", "latency_ms", "instance_seconds", "memory_gib_s", "idle_memory_gib_s", "peak_memory_gib",
        "peak_instances", "simulated_seconds"})
public record SimResult(@JsonProperty("policy") String policy, @JsonProperty("keepalive") String keepAlive,
                        @JsonProperty("invocations") long invocations, @JsonProperty("served") long served,
                        @JsonProperty("cold_starts") long coldStarts, @JsonProperty("cold_start_pct") double coldStartPct,
                        @JsonProperty("rejected") long rejected, @JsonProperty("prewarms") long prewarms,
                        @JsonProperty("evictions") long evictions, @JsonProperty("latency_ms") Latency latencyMs,
                        @JsonProperty("instance_seconds") double instanceSeconds,
                        @JsonProperty("memory_gib_s") double memoryGibS,
                        @JsonProperty("idle_memory_gib_s") double idleMemoryGibS,
                        @JsonProperty("peak_memory_gib") double peakMemoryGib,
                        @JsonProperty("peak_instances") int peakInstances,
                        @JsonProperty("simulated_seconds") double simulatedSeconds) {

    @JsonPropertyOrder({"p50", "p99", "p999", "mean", "max"})
    public record Latency(@JsonProperty("p50") double p50, @JsonProperty("p99") double p99,
                          @JsonProperty("p999") double p999, @JsonProperty("mean") double mean,
                          @JsonProperty("max") double max) {
        static Latency of(double[] sorted) {
            if (sorted.length == 0) return new Latency(0, 0, 0, 0, 0);
            double sum = 0;
            for (double v : sorted) sum += v;
            return new Latency(r(Percentiles.ofSorted(sorted, 50), 3), r(Percentiles.ofSorted(sorted, 99), 3),
                    r(Percentiles.ofSorted(sorted, 99.9), 3), r(sum / sorted.length, 3), r(sorted[sorted.length - 1], 3));
        }
    }

    private static final double MIB_NANOS_PER_GIB_S = 1024.0 * 1e9;

    static SimResult of(String policy, String keepAlive, long invocations, long served, long cold, long rejected,
                        long prewarms, long evictions, double[] sortedLatencies, long instanceNanos,
                        double instanceMibNanos, double idleMibNanos, long peakMemoryMib, int peakInstances, long endNanos) {
        return new SimResult(policy, keepAlive, invocations, served, cold,
                served == 0 ? 0 : r(100.0 * cold / served, 3), rejected, prewarms, evictions,
                Latency.of(sortedLatencies), r(instanceNanos / 1e9, 3), r(instanceMibNanos / MIB_NANOS_PER_GIB_S, 3),
                r(idleMibNanos / MIB_NANOS_PER_GIB_S, 3), r(peakMemoryMib / 1024.0, 3), peakInstances, r(endNanos / 1e9, 3));
    }

    static double r(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }
}
