package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import dev.thaw.model.Mode;

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
                         @JsonIgnore ThawException.Kind errorKind) {}

    private final Map<String, Status> entries = new ConcurrentHashMap<>();
    private final Map<String, Long> expiry = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Status>> finished = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final Ticker ticker;

    AsyncInvocations(Duration ttl, Ticker ticker) {
        this.ttl = ttl;
        this.ticker = ticker;
    }

    Status submit(String function, Mode mode, Admission.Ticket ticket, Supplier<InvocationResult> work) {
        if (entries.size() >= MAX_ENTRIES) {
            purgeExpired();
            if (entries.size() >= MAX_ENTRIES) {
                ticket.close();
                throw ThawException.limitExceeded("async_results", "too many asynchronous invocations are stored ("
                        + MAX_ENTRIES + "); fetch or wait for results to expire", 5);
            }
        }
        String id = "inv-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        Status queued = new Status(id, function, mode.id(), "queued", Instant.now().toString(), null, null, null, null);
        entries.put(id, queued);
        CompletableFuture<Status> completion = new CompletableFuture<>();
        finished.put(id, completion);
        Thread.ofVirtual().name("async-" + id).start(() -> {
            entries.computeIfPresent(id, (k, s) -> withState(s, "running"));
            Status done;
            try {
                InvocationResult r = work.get();
                done = new Status(id, function, mode.id(), "succeeded", queued.submitted(), Instant.now().toString(), r, null, null);
            } catch (ThawException e) {
                ObjectNode err = Json.object().put("code", e.code()).put("message", e.getMessage());
                if (e.details() != null) err.setAll(e.details());
                done = new Status(id, function, mode.id(), "failed", queued.submitted(), Instant.now().toString(), null, err, e.kind());
            } catch (RuntimeException e) {
                ObjectNode err = Json.object().put("code", "internal").put("message", e.toString());
                done = new Status(id, function, mode.id(), "failed", queued.submitted(), Instant.now().toString(), null, err, ThawException.Kind.INTERNAL);
            }
            entries.put(id, done);
            expiry.put(id, ticker.nanoTime() + ttl.toNanos());
            completion.complete(done);
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

    /** The invocation's final status, once it has one (tests and callers that want to wait). */
    CompletableFuture<Status> completion(String id) {
        CompletableFuture<Status> f = finished.get(id);
        if (f == null) throw ThawException.notFound("no invocation " + id + " (unknown, or its result expired)");
        return f;
    }

    void purgeExpired() {
        long now = ticker.nanoTime();
        expiry.forEach((id, t) -> {
            if (t < now) {
                expiry.remove(id);
                entries.remove(id);
                finished.remove(id);
            }
        });
    }
}
