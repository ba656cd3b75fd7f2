package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Invocations accepted with {@code ?async=true}: each runs on its own virtual thread, and its
 * status and result stay queryable for {@code ttl} after it ends. The store is bounded: at most
 * {@link #MAX_ENTRIES} entries, so a flood of async calls meets a 429, not an out-of-memory daemon.
 */
public final class AsyncInvocations {
    static final int MAX_ENTRIES = 100_000;

    /** What {@code GET /invocations/{id}} shows. {@code state} is queued, running, succeeded or failed. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Status(@JsonProperty("invocation_id") String id, @JsonProperty("function") String function,
                         @JsonProperty("mode") String mode, @JsonProperty("state") String state,
                         @JsonProperty("submitted") String submitted, @JsonProperty("finished") String finished,
                         @JsonProperty("response") InvocationResult response, @JsonProperty("error") ObjectNode error,
                         @JsonProperty("status") Integer httpStatus) {}

    private final Map<String, Status> entries = new ConcurrentHashMap<>();
    private final Map<String, Long> expiry = new ConcurrentHashMap<>();
    private final Duration ttl;

    AsyncInvocations(Duration ttl) {
        this.ttl = ttl;
    }

    Status submit(String function, Mode mode, Admission.Ticket ticket, Supplier<InvocationResult> work) {
        if (entries.size() >= MAX_ENTRIES) {
            purgeExpired();
            if (entries.size() >= MAX_ENTRIES) {
                ticket.close();
                throw new ThawException(429, "limit_exceeded", "too many asynchronous invocations are stored ("
                        + MAX_ENTRIES + "); fetch or wait for results to expire",
                        Json.object().put("limit", "async_results").put("retry_after_s", 5), null);
            }
        }
        String id = "inv-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        Status queued = new Status(id, function, mode.id(), "queued", Instant.now().toString(), null, null, null, null);
        entries.put(id, queued);
        Thread.ofVirtual().name("async-" + id).start(() -> {
            entries.computeIfPresent(id, (k, s) -> withState(s, "running"));
            Status done;
            try {
                InvocationResult r = work.get();
                done = new Status(id, function, mode.id(), "succeeded", queued.submitted(), Instant.now().toString(), r, null, 200);
            } catch (ThawException e) {
                ObjectNode err = Json.object().put("code", e.code()).put("message", e.getMessage());
                if (e.details() != null) err.setAll(e.details());
                done = new Status(id, function, mode.id(), "failed", queued.submitted(), Instant.now().toString(), null, err, e.status());
            } catch (RuntimeException e) {
                ObjectNode err = Json.object().put("code", "internal").put("message", e.toString());
                done = new Status(id, function, mode.id(), "failed", queued.submitted(), Instant.now().toString(), null, err, 500);
            }
            entries.put(id, done);
            expiry.put(id, System.nanoTime() + ttl.toNanos());
        });
        return queued;
    }

    private static Status withState(Status s, String state) {
        return new Status(s.id(), s.function(), s.mode(), state, s.submitted(), null, null, null, null);
    }

    Status get(String id) {
        Status s = entries.get(id);
        if (s == null) throw ThawException.notFound("no invocation " + id + " (unknown, or its result expired)");
        return s;
    }

    void purgeExpired() {
        long now = System.nanoTime();
        expiry.forEach((id, t) -> {
            if (t < now) {
                expiry.remove(id);
                entries.remove(id);
            }
        });
    }
}
