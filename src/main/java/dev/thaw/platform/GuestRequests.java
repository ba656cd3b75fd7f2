package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.vm.Guest;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/** The requests the platform sends to a guest agent, and how their failures become errors. */
final class GuestRequests {
    private GuestRequests() {}

    static ObjectNode load(FunctionBundle bundle) {
        ObjectNode req = Json.object().put("op", "load");
        req.putObject("function").put("name", bundle.spec().name());
        ObjectNode files = req.putObject("files");
        Base64.Encoder b64 = Base64.getEncoder();
        bundle.files().forEach((path, bytes) -> files.put(path, b64.encodeToString(bytes)));
        return req;
    }

    private static final SecureRandom SEEDS = new SecureRandom();
    /**
     * Bytes of fresh entropy a restored clone gets (docs/design.md §5): the first 64 go to its
     * kernel pool, the other 32 seed Python's {@code random} (its own bytes, not read back from
     * the kernel's generator: one system call and a hash fewer for TCG to translate per restore).
     * The system property {@code thaw.seed-bytes=64} sends the kernel's part only, which makes the
     * agent reseed the older way: a measurement aid (docs/results/2026-11-30-jail), not a setting.
     */
    static final int SEED_BYTES = Math.max(64, Math.min(96, Integer.getInteger("thaw.seed-bytes", 96)));

    /** An invocation; it carries the host's clock, which a restored guest adopts (its own is the snapshot's). */
    static ObjectNode invoke(JsonNode event, String invocationId) {
        return invoke(event, invocationId, false);
    }

    /**
     * An invocation; with {@code reseed} (the first call to a restored clone) it also carries a
     * fresh seed, so the guest reseeds its RNGs and runs its {@code after_restore} hooks first.
     */
    static ObjectNode invoke(JsonNode event, String invocationId, boolean reseed) {
        ObjectNode req = Json.object().put("op", "invoke").put("invocation", invocationId);
        if (reseed) {
            byte[] seed = new byte[SEED_BYTES];
            SEEDS.nextBytes(seed);
            req.put("seed", Base64.getEncoder().encodeToString(seed));
        }
        Instant now = Instant.now();
        req.put("clock_ns", now.getEpochSecond() * 1_000_000_000L + now.getNano());
        req.set("event", event == null ? Json.object() : event);
        return req;
    }

    /** Runs the function's {@code before_snapshot} hooks, right before a deploy snapshots it. */
    static ObjectNode beforeSnapshot() {
        return Json.object().put("op", "before_snapshot");
    }

    /** The error for a handler that raised, with the guest's exception type and traceback. */
    static ThawException handlerError(String function, JsonNode reply) {
        JsonNode err = reply.path("error");
        ObjectNode details = Json.object();
        details.put("type", err.path("type").asText());
        details.put("traceback", err.path("traceback").asText());
        return new ThawException(ThawException.Kind.HANDLER, "handler_error", function + " raised " + err.path("type").asText() + ": "
                + err.path("message").asText(), details, null);
    }

    /** Sends a deploy-time request; a handler failure becomes an INVALID deploy_failed naming the step. */
    static JsonNode deployStep(Guest guest, ObjectNode request, Duration timeout, String function, String step) {
        JsonNode reply = guest.request(request, timeout);
        if (!reply.path("ok").asBoolean()) {
            ThawException h = handlerError(function, reply);
            throw new ThawException(ThawException.Kind.INVALID, "deploy_failed", step + " " + function + " failed: " + h.getMessage(), h.details(), null);
        }
        return reply;
    }
}
