package dev.thaw.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.AuthToken;
import dev.thaw.common.Json;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the daemon spent on a run, from its {@code GET /stats} read before and after: per deployed
 * function the restores, the idle instance-seconds and the idle memory-time (idle seconds ×
 * guest MiB), and how its warm calls were dispatched. Those are costs the answers cannot show: a
 * restore the autoscaler or the keep-alive policy made ahead of a call serves that call as a warm
 * hit, and idle instances answer nothing. Read outside the measured run; a daemon without the
 * endpoint (or the self-test server) gives no reading and the report leaves the columns out.
 */
final class DaemonStats {
    /** The difference of two readings for one daemon function. */
    record Cost(long restores, long boots, double idleInstanceSeconds, double idleMibSeconds, long queued, long restoredForCall) {
        Cost plus(Cost o) {
            return new Cost(restores + o.restores, boots + o.boots, idleInstanceSeconds + o.idleInstanceSeconds,
                    idleMibSeconds + o.idleMibSeconds, queued + o.queued, restoredForCall + o.restoredForCall);
        }

        static final Cost ZERO = new Cost(0, 0, 0, 0, 0, 0);
    }

    private DaemonStats() {
    }

    /** One reading, or null when the daemon has no {@code /stats}. */
    static JsonNode read(String base) {
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base.replaceAll("/+$", "") + "/stats"))
                    .timeout(Duration.ofSeconds(10)).GET();
            AuthToken.fromEnvironment().ifPresent(t -> req.header("Authorization", t.bearer()));
            HttpResponse<String> r = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return null;
            JsonNode n = Json.parse(r.body());
            return n != null && n.path("functions").isObject() ? n : null;
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Per daemon function, {@code after} minus {@code before} (a function absent before counts from zero). */
    static Map<String, Cost> diff(JsonNode before, JsonNode after) {
        Map<String, Cost> out = new TreeMap<>();
        if (after == null) return out;
        for (Iterator<Map.Entry<String, JsonNode>> it = after.path("functions").fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode a = e.getValue();
            JsonNode b = before == null ? null : before.path("functions").get(e.getKey());
            out.put(e.getKey(), new Cost(delta(a, b, "restores"), delta(a, b, "boots"),
                    deltaD(a, b, "idle_instance_s"), deltaD(a, b, "idle_mib_s"),
                    a.path("dispatch").path("queued").asLong() - (b == null ? 0 : b.path("dispatch").path("queued").asLong()),
                    a.path("dispatch").path("restored").asLong() - (b == null ? 0 : b.path("dispatch").path("restored").asLong())));
        }
        return out;
    }

    private static long delta(JsonNode a, JsonNode b, String f) {
        return a.path(f).asLong() - (b == null ? 0 : b.path(f).asLong());
    }

    private static double deltaD(JsonNode a, JsonNode b, String f) {
        return a.path(f).asDouble() - (b == null ? 0 : b.path(f).asDouble());
    }

    static ObjectNode toJson(Cost c) {
        return Json.object().put("restores", c.restores()).put("boots", c.boots())
                .put("idle_instance_s", c.idleInstanceSeconds()).put("idle_mib_s", c.idleMibSeconds())
                .put("idle_gib_s", c.idleMibSeconds() / 1024).put("queued", c.queued()).put("restored_for_call", c.restoredForCall());
    }
}
