package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

/** Invocation answers shaped like the daemon's, for tests. */
final class Answers {
    private Answers() {}

    /** A restore's answer: total, a few phases, and the memory counters. */
    static ObjectNode restore(String mode, double total, long faults, long diskBytes, long wsPages, long lsPages) {
        ObjectNode a = Json.object().put("instance", "i-" + (long) total).put("mode", mode).put("cold_start", mode);
        a.putObject("result").put("ok", true);
        ObjectNode t = a.putObject("timing_ms");
        t.put("total", total).put("vmm_start", total * 0.3).put("state_load", total * 0.2).put("resume", total * 0.1)
                .put("guest_exec", total * 0.3).put("host_overhead", total * 0.1);
        a.putObject("memory").put("major_faults", faults).put("disk_read_bytes", diskBytes)
                .put("working_set_pages", wsPages).put("loading_set_pages", lsPages);
        return a;
    }

    /** A warm hit: no start-up phases, no cold_start, no memory counters. */
    static ObjectNode warm(double total) {
        ObjectNode a = Json.object().put("instance", "i-w").put("mode", "warm");
        a.putNull("cold_start");
        a.putObject("timing_ms").put("total", total).put("guest_exec", total * 0.8).put("host_overhead", total * 0.2);
        return a;
    }

    static Invocation ok(String mode, int p, int run, int slot, JsonNode answer) {
        return new Invocation("e", "hello", "test", mode, p, run, slot, answer, null, null, answer.path("timing_ms").path("total").asDouble() + 1);
    }

    static Invocation failed(String mode, int p, int run, int slot, String code, String message) {
        return new Invocation("e", "hello", "test", mode, p, run, slot, null, code, message, 5);
    }
}
