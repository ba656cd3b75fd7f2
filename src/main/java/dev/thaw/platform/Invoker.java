package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.trace.Tracing;
import dev.thaw.memory.FaultLog;
import dev.thaw.memory.PageServer;
import dev.thaw.memory.ProcessStats;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.SnapshotCorruptException;
import dev.thaw.vm.VmException;
import io.opentelemetry.context.Context;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The invocation path: admission, an instance (idle, restored or booted), the guest call, the
 * answer.
 *
 * <p>{@link #invoke} waits for a concurrency slot of the function ({@link Admission}), then takes
 * an idle instance ({@code warm}) or has the {@link Restorer} restore one with the mode's strategy
 * (a warm miss uses the function's own {@code restore} strategy) or boot one ({@code cold}), sends
 * the event to the guest, and gives the instance back to the {@link InstanceManager}. The answer
 * never waits for work a restore left running (FaaSnap's prefetch): its end is reported when it
 * has one. An instance whose VM failed is discarded, never pooled; the failure is that call's
 * alone. Failures leave as {@link ThawException}s of a {@link ThawException.Kind}.
 *
 * <p>A {@code warm} call that finds no idle instance asks {@link Dispatch} whether to wait for a
 * busy one or restore (docs/design.md §7); every call is counted in flight there from arrival to
 * answer, which feeds the autoscaler and the keep-alive policy and lets an overloaded function
 * refuse at once.
 *
 * <p>A guest may call other functions ({@link #serveGuestCall}); such a call is an invocation
 * whose trace parent is the caller's guest execution, one level deeper in the call chain.
 */
public final class Invoker {
    private final Platform.Config config;
    private final FunctionRegistry registry;
    private final Admission admission;
    private final InstanceManager instances;
    private final Restorer restorer;
    private final AsyncInvocations async;
    private final Tracing tracing;
    private final Metrics metrics;
    private final Ticker ticker;
    private final Dispatch dispatch;
    /** Invocations in flight by id: a guest's call names its invocation, which becomes the callee's parent. */
    private final Map<String, Call> inFlight = new ConcurrentHashMap<>();

    Invoker(Platform.Config config, FunctionRegistry registry, Admission admission, InstanceManager instances,
            Restorer restorer, AsyncInvocations async, Tracing tracing, Metrics metrics, Ticker ticker, Dispatch dispatch) {
        this.config = config;
        this.registry = registry;
        this.admission = admission;
        this.instances = instances;
        this.restorer = restorer;
        this.async = async;
        this.tracing = tracing;
        this.metrics = metrics;
        this.ticker = ticker;
        this.dispatch = dispatch;
    }

    /** Runs one invocation once the function has a free concurrency slot (bounded queue). */
    public InvocationResult invoke(String function, JsonNode event, Mode mode, Call call) {
        registry.get(function);
        Dispatch.Arrival arrival = arrive(function, mode);
        try (Admission.Ticket ticket = admission.enter(line(function, call))) {
            ticket.awaitTurn();
            return invokeOnce(function, event, mode, call, arrival);
        } catch (ThawException e) {
            countError(function, e);
            throw e;
        } finally {
            leave(function, mode, arrival);
        }
    }

    /**
     * Counts a warm call in flight, or refuses it at once when its function is overloaded. A call
     * that names a restore mode restores its own VM whatever runs: it is a measurement of that
     * path, not traffic, so it feeds neither the autoscaler nor the keep-alive policy (else a
     * benchmark's cache drop would have the autoscaler restore behind its back).
     */
    private Dispatch.Arrival arrive(String function, Mode mode) {
        if (mode != Mode.WARM) return null;
        try {
            return dispatch.enter(function);
        } catch (ThawException e) {
            countError(function, e);
            throw e;
        }
    }

    private void leave(String function, Mode mode, Dispatch.Arrival arrival) {
        if (mode == Mode.WARM) dispatch.leave(function, arrival);
    }

    /** Accepts an invocation to run in the background: it takes its queue place now (LIMIT if the queue is full). */
    public AsyncInvocations.Status invokeAsync(String function, JsonNode event, Mode mode, Call call) {
        registry.get(function);
        Dispatch.Arrival arrival = arrive(function, mode);
        Admission.Ticket ticket;
        try {
            ticket = admission.enter(line(function, call));
        } catch (ThawException e) {
            leave(function, mode, arrival);
            countError(function, e);
            throw e;
        }
        try {
            return async.submit(function, mode, ticket, () -> {
                try (ticket) {
                    ticket.awaitTurn();
                    return invokeOnce(function, event, mode, call, arrival);
                } catch (ThawException e) {
                    countError(function, e);
                    throw e;
                } finally {
                    leave(function, mode, arrival);
                }
            });
        } catch (ThawException e) {
            // refused before it ran (too many stored results): it is no longer in flight, nor
            // queued, where it would hold the queue's age up and have every later call refused
            leave(function, mode, arrival);
            countError(function, e);
            throw e;
        }
    }

    /** Status and result of an asynchronous invocation (NOT_FOUND once it expired). */
    public AsyncInvocations.Status invocation(String id) {
        return async.get(id);
    }

    AsyncInvocations async() {
        return async;
    }

    /**
     * The admission line an invocation joins: calls from other functions queue apart from outside
     * callers, so a function that floods another with calls fills its own line, not theirs.
     */
    static String line(String function, Call call) {
        return call.depth() > 0 ? function + " (calls)" : function;
    }

    /** The guest's own timing of the handler, believed only as far as it can be: 0 to the time the call took. */
    private static double guestExecMs(JsonNode reply, Timing.Clock clock) {
        double ms = reply.path("exec_ms").asDouble(0);
        double elapsed = clock.elapsedMs();
        return Double.isFinite(ms) ? Math.max(0, Math.min(ms, elapsed)) : 0;
    }

    /**
     * The guest's timing of a restored clone's reseed (and its after_restore hooks), untrusted like
     * {@code exec_ms}: only for a request that carried a seed, and clamped to between 0 and the time
     * not yet accounted for (neither a restore phase nor the handler); absent or not a number is none.
     */
    static Double reseedMs(JsonNode reply, boolean seeded, double guestExecMs, Timing.Clock clock) {
        if (!seeded || !reply.path("reseed_ms").isNumber()) return null;
        double ms = reply.path("reseed_ms").asDouble();
        double unaccounted = clock.elapsedMs() - clock.coldStartMs() - guestExecMs;
        return Double.isFinite(ms) ? Math.max(0, Math.min(ms, unaccounted)) : null;
    }

    /** Counts a failed invocation by its error code (also for failures found before the platform saw it, e.g. a bad mode). */
    public void countError(String function, ThawException e) {
        metrics.increment("thaw_invocation_errors_total", "Failed invocations by error code",
                Metrics.labels("code", e.code(), "function", function));
    }

    private InvocationResult invokeOnce(String function, JsonNode event, Mode mode, Call call, Dispatch.Arrival arrival) {
        Deployed d = registry.get(function);
        if (mode.restores()) RestoreStrategy.of(mode).prepare(d, () -> restorer.snapshotFiles(d)); // CACHED's precondition, not part of its time
        String invocationId = "inv-" + Ids.shortId() + Ids.shortId();
        List<String> warnings = new ArrayList<>();
        // Before the clock starts: waiting for an instance is queue time, like waiting for a slot.
        Dispatch.Acquired acquired = mode == Mode.WARM ? dispatch.acquire(function, call.depth() == 0, arrival) : null;
        Timing.Clock clock = new Timing.Clock(ticker);
        InvocationSpan span = new InvocationSpan(tracing, function, invocationId, mode, call, clock);
        Instance inst = null;
        Mode coldStart = null;
        String status = "error";
        Dispatch.Outcome got = acquired == null ? null : acquired.outcome();
        boolean restoring = got == Dispatch.Outcome.RESTORED; // a warm miss counts as restoring (and may hold a slot) until restored
        try {
            RestoreStrategy.Attempt attempt = null;
            if (acquired != null) inst = acquired.instance();
            ProcessStats before = inst == null ? null : inst.guest().processStats();
            if (inst == null && mode == Mode.COLD) {
                coldStart = Mode.COLD;
                inst = restorer.boot(d, clock);
            } else if (inst == null) {
                // A warm miss restores with the function's own strategy and, unasked, stays quiet about fallbacks.
                Restorer.Restore restore;
                try {
                    restore = restorer.restore(d, mode == Mode.WARM ? d.defaultRestore() : mode, clock,
                            mode == Mode.WARM ? new ArrayList<>() : warnings);
                } finally {
                    // Not held through the call: a handler that calls a function needing a restore would wait for itself.
                    if (restoring) dispatch.restored(function, acquired.slot());
                    restoring = false;
                }
                coldStart = restore.strategy();
                inst = restore.instance();
                attempt = restore.attempt();
            }
            // A restore reports every fault since the VMM started; a warm call only its own.
            int faultMark = attempt == null && inst.pageServer() != null ? inst.pageServer().log().size() : 0;
            inFlight.put(invocationId, new Call(span.beginGuestExec(), call.depth(), false));
            long sent = ticker.nanoTime();
            boolean seeded = inst.takeUnseeded();
            JsonNode reply = inst.guest().request(GuestRequests.invoke(event, invocationId, seeded),
                    Duration.ofSeconds(d.spec().timeoutSeconds()));
            InvocationResult.MemoryStats memory = memoryStats(inst, before, d.plan(), faultMark);
            if (attempt != null) attempt.afterReply(clock);
            if (coldStart == null) dispatch.served(function, (ticker.nanoTime() - sent) / 1e6);
            else if (mode == Mode.WARM) dispatch.restoreTook(function, clock.elapsedMs());
            double guestExec = guestExecMs(reply, clock);
            Timing timing = clock.finish(guestExec, reseedMs(reply, seeded, guestExec, clock));
            Instance done = inst;
            inst = null;
            instances.release(done, Math.max(Math.max(config.maxIdlePerFunction(), d.spec().minWarm()), dispatch.desired(function)));
            boolean ok = reply.path("ok").asBoolean();
            span.finished(timing, coldStart, done.id(), ok);
            if (attempt != null) reportLate(attempt, clock, span);
            if (!ok) throw GuestRequests.handlerError(function, reply);
            status = "ok";
            metrics.observe("thaw_invocation_duration_seconds", "Invocation latency seen by the platform",
                    Metrics.labels("function", function, "mode", mode.id()), timing.total() / 1000);
            return new InvocationResult(invocationId, function, reply.get("result"), done.id(), mode.id(),
                    coldStart == null ? null : coldStart.id(), dispatchName(mode, got), timing, memory, warnings.isEmpty() ? null : warnings,
                    span.traceId(), span.traceparent());
        } catch (VmException.Timeout e) {
            throw new ThawException(ThawException.Kind.TIMEOUT, "vm_timeout", function + ": " + e.getMessage(), null, e);
        } catch (VmException.Protocol e) {
            throw new ThawException(ThawException.Kind.VM_FAILED, e.code(), function + ": " + e.getMessage(), null, e);
        } catch (VmException e) {
            String fetch = d.snapshot().availability().failure(); // a VM restored while its memory arrived dies when that fetch fails
            if (fetch != null) throw new ThawException(ThawException.Kind.VM_FAILED, "snapshot_fetch_failed", function + ": " + fetch, null, e);
            throw new ThawException(ThawException.Kind.VM_FAILED, "vm_failed", function + ": " + e.getMessage(), null, e);
        } catch (SnapshotCorruptException e) {
            throw new ThawException(ThawException.Kind.CORRUPT, "snapshot_corrupt", e.getMessage(), null, e);
        } catch (RuntimeException e) {
            // A restore from a snapshot still arriving can also fail before its VM runs (its files deleted when the fetch failed).
            String fetch = e instanceof ThawException ? null : d.snapshot().availability().failure();
            if (fetch != null) throw new ThawException(ThawException.Kind.VM_FAILED, "snapshot_fetch_failed", function + ": " + fetch, null, e);
            throw e;
        } finally {
            if (restoring) dispatch.restored(function, acquired.slot());
            inFlight.remove(invocationId);
            span.end(); // a no-op when finished() ended it; otherwise it records the failure
            if (inst != null) instances.discard(inst);
            metrics.increment("thaw_invocations_total", "Invocations by function, mode and outcome",
                    Metrics.labels("function", function, "mode", mode.id(), "status", status));
            if (coldStart != null) {
                metrics.increment("thaw_cold_starts_total", "Instances started for an invocation, by strategy",
                        Metrics.labels("function", function, "strategy", coldStart.id()));
            }
        }
    }

    /** The answer's {@code dispatch}: a warm call's outcome; an explicit restore mode restored; cold has none. */
    private static String dispatchName(Mode mode, Dispatch.Outcome got) {
        if (mode == Mode.COLD) return null;
        return (got == null ? Dispatch.Outcome.RESTORED : got).name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Puts work that outlived the answer (a prefetch) on the trace once it ends. */
    private static void reportLate(RestoreStrategy.Attempt attempt, Timing.Clock clock, InvocationSpan span) {
        CompletableFuture<?> bg = attempt.background();
        if (bg.isDone()) return;
        bg.whenComplete((r, e) -> {
            attempt.afterReply(clock);
            long[] p = clock.concurrentPrefetch();
            if (p != null) span.latePrefetch(p[0], p[1]);
        });
    }

    /**
     * Serves a handler's call to another function ({@code thaw.invoke} in the guest): a normal
     * invocation whose trace parent is the calling invocation, allowed only to the functions the
     * caller's function.json lists in {@code may_call}. Failures go back to the caller as
     * an error reply, which the guest library raises as {@code thaw.InvocationError}.
     */
    JsonNode serveGuestCall(FunctionSpec caller, JsonNode msg) {
        String callee = msg.path("function").asText("");
        // "parent" is the host's record of the invocation running in the calling instance (AgentConnection).
        Call parent = inFlight.get(msg.path("parent").asText(""));
        int depth = parent == null ? 1 : parent.depth() + 1;
        ObjectNode reply = Json.object();
        try {
            if (!caller.mayCall(callee)) {
                throw new ThawException(ThawException.Kind.FORBIDDEN, "call_not_allowed", caller.name() + " may not call "
                        + (callee.isEmpty() ? "an unnamed function" : callee) + "; list it in \"may_call\" of its function.json");
            }
            if (depth > config.maxCallDepth()) {
                throw new ThawException(ThawException.Kind.CALL_DEPTH, "call_depth", "call to " + callee
                        + " exceeds the call depth limit of " + config.maxCallDepth() + " (a cycle of calls?)");
            }
            // thaw.invoke_async only lets the handler wait later (Handle.result()); it is a parallel
            // call, not fire-and-forget, so it is CHILD_OF like a blocking call. A call that really
            // outlives its caller is still followed as async work by the analysis (it ends after its parent).
            Call call = new Call(parent == null ? Context.root() : parent.parent(), depth, false);
            InvocationResult r = invoke(callee, msg.path("event"), Mode.WARM, call);
            reply.put("ok", true).set("result", r.result());
        } catch (ThawException e) {
            reply.put("ok", false).putObject("error").put("type", "InvocationError").put("code", e.code())
                    .put("kind", e.kind().name().toLowerCase()).put("message", e.getMessage());
        }
        return reply;
    }

    /** The VMM's major faults and disk reads during this invocation (since it started, for a new instance). */
    private static InvocationResult.MemoryStats memoryStats(Instance inst, ProcessStats before, Deployed.LoadPlan plan,
                                                            int faultMark) {
        ProcessStats now = inst.guest().processStats();
        if (now == null) return null;
        ProcessStats delta = before == null ? now : now.minus(before);
        PageServer pages = inst.pageServer();
        InvocationResult.UffdStats uffd = null;
        if (pages != null) {
            FaultLog.Stats f = pages.log().stats(faultMark);
            uffd = new InvocationResult.UffdStats(f.faults(), f.zeroPages(), faultMark == 0 ? pages.installedPages() : 0,
                    f.p50Us(), f.p99Us(), faultMark == 0 ? pages.anonymousPages() : 0);
        }
        return new InvocationResult.MemoryStats(delta.majorFaults(), delta.readBytes(),
                plan == null ? null : plan.workingSetPages(), plan == null ? null : plan.loadingSetPages(),
                plan == null ? null : plan.method(), plan == null ? null : plan.pagesByMethod(), uffd);
    }
}
