package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One invocation a benchmark made: where it sits in the scenario and what the daemon answered
 * (a row of the CSV).
 *
 * @param run      1-based run number within its (function, input, mode, parallelism) cell
 * @param slot     1-based position among the {@code parallelism} concurrent invocations of its run
 * @param response  the daemon's JSON answer, or null when the invocation failed
 * @param errorCode the daemon's error code ({@code vm_timeout}, {@code bad_mode}, …), or null
 * @param error     why it failed, or null
 * @param clientMs latency seen by the benchmark client: request sent to answer received
 */
public record Invocation(String experiment, String function, String input, String mode, int parallelism,
                         int run, int slot, JsonNode response, String errorCode, String error, double clientMs) {
    public boolean ok() {
        return response != null;
    }

    /** {@code timing_ms.total}, the daemon's own measure of the invocation's latency. */
    public double totalMs() {
        return response == null ? Double.NaN : response.path("timing_ms").path("total").asDouble(Double.NaN);
    }

    /** True for a {@code warm} invocation that found no idle instance and had to start one. */
    public boolean notWarm() {
        return ok() && mode.equals("warm") && response.hasNonNull("cold_start");
    }
}
