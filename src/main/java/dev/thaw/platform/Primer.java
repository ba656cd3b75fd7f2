package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.scale.RecentTimes;
import dev.thaw.vm.VmException;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Primes an instance restored ahead of demand before it is offered to calls, in the manner of
 * Lambda SnapStart's priming and CRaC's warm-up: one invoke with the function's
 * {@link FunctionSpec#primeEvent() priming event} that carries the restore's seed, its result
 * thrown away.
 *
 * <p>Why: a restored instance has never run its handler since the snapshot. Its first call pays
 * the per-restore reseed (kernel RNG, Python's {@code random}, {@code after_restore} hooks) and,
 * under TCG, the translation of the whole handler path — 250–700 ms for {@code hello} on the
 * development hosts, where a warm call takes 9 ms — and every call queued behind it waits too
 * (issue 12's quiet rerun: all calls over 100 ms at 32 req/s were the four prewarmed instances'
 * first calls). Primed, that cost is paid at prewarm time, off any caller's clock.
 *
 * <p>Which restores are primed: those nobody waits for — {@code POST /prewarm}, {@code min_warm}
 * top-ups, the autoscaler's and the keep-alive policy's restores ({@link Keeper}). A warm miss is
 * not: its caller's own call goes first and does the same work. Off with {@code --prime off}, or
 * per function with {@code "prime": false} in function.json (a handler with side effects must be
 * able to refuse an invocation nobody asked for). The priming invoke takes the instance's seed
 * ({@link Instance#takeUnseeded}), so the reseed and the {@code after_restore} hooks still run
 * exactly once per restore and the first real call carries no seed.
 *
 * <p>A priming is not an invocation: it is not in {@code thaw_invocations_total}, the error
 * counts, traces or the dispatch's service times. Its time is kept per function for
 * {@code GET /stats} ({@code prime_ms}, and the guest's own {@code prime_exec_ms}) and in
 * {@code thaw_prime_duration_seconds}. A priming that fails (the handler raised, the guest timed
 * out or died) discards the instance — it would fail a caller too — and raises
 * {@code prime_failed}; that is no call's failure.
 */
final class Primer {
    private static final System.Logger LOG = System.getLogger(Primer.class.getName());

    private final boolean enabled;
    private final InstanceManager instances;
    private final Metrics metrics;
    private final Ticker ticker;
    private final Map<String, Fn> functions = new ConcurrentHashMap<>();

    private static final class Fn {
        final LongAdder primed = new LongAdder();
        final LongAdder failed = new LongAdder();
        final RecentTimes totalMs = new RecentTimes(8, 0);
        final RecentTimes execMs = new RecentTimes(8, 0);
    }

    Primer(boolean enabled, InstanceManager instances, Metrics metrics, Ticker ticker) {
        this.enabled = enabled;
        this.instances = instances;
        this.metrics = metrics;
        this.ticker = ticker;
    }

    boolean enabled() {
        return enabled;
    }

    /** Whether instances of {@code d} restored ahead of demand are primed. */
    boolean wanted(Deployed d) {
        return enabled && d.spec().prime();
    }

    /**
     * Primes {@code inst}, a just-restored instance not yet offered to calls (it is still busy in
     * the {@link InstanceManager}); does nothing when priming is off for its function. On a
     * failure the instance is discarded and a {@code prime_failed} {@link ThawException} raised.
     */
    void prime(Deployed d, Instance inst) {
        if (!wanted(d)) return;
        FunctionSpec spec = d.spec();
        Fn f = functions.computeIfAbsent(d.name(), k -> new Fn());
        long start = ticker.nanoTime();
        JsonNode reply;
        try {
            reply = inst.guest().request(GuestRequests.invoke(spec.primeEvent(), "prime-" + inst.id(), inst.takeUnseeded()),
                    Duration.ofSeconds(spec.timeoutSeconds()));
        } catch (VmException.Timeout e) {
            throw failed(f, d, inst, ThawException.Kind.TIMEOUT, "timed out after " + spec.timeoutSeconds() + " s", null, e);
        } catch (VmException e) {
            throw failed(f, d, inst, ThawException.Kind.VM_FAILED, e.getMessage(), null, e);
        }
        if (!reply.path("ok").asBoolean()) {
            ThawException h = GuestRequests.handlerError(d.name(), reply);
            throw failed(f, d, inst, ThawException.Kind.HANDLER, h.getMessage(), h.details(), null);
        }
        double ms = (ticker.nanoTime() - start) / 1e6;
        double execMs = Math.max(0, Math.min(reply.path("exec_ms").asDouble(0), ms));
        f.primed.increment();
        f.totalMs.add(ms);
        f.execMs.add(execMs);
        metrics.observe("thaw_prime_duration_seconds", "Priming calls of instances restored ahead of demand (not invocations)",
                Metrics.labels("function", d.name()), ms / 1000);
        LOG.log(System.Logger.Level.DEBUG, () -> String.format(java.util.Locale.ROOT,
                "primed %s's instance %s in %.1f ms (handler %.1f ms)", d.name(), inst.id(), ms, execMs));
    }

    private ThawException failed(Fn f, Deployed d, Instance inst, ThawException.Kind kind, String why,
                                 com.fasterxml.jackson.databind.node.ObjectNode details, Throwable cause) {
        f.failed.increment();
        instances.discard(inst);
        metrics.increment("thaw_prime_failures_total", "Primings that failed; the instance was discarded",
                Metrics.labels("function", d.name()));
        String message = "priming " + d.name() + "'s new instance " + inst.id() + " with its "
                + primeInputName(d.spec()) + " failed: " + why + " (the instance was discarded; \"prime\": false in "
                + "function.json turns priming off for this function)";
        LOG.log(System.Logger.Level.WARNING, message);
        return new ThawException(kind, "prime_failed", message, details, cause);
    }

    private static String primeInputName(FunctionSpec spec) {
        if (spec.inputs().has("record")) return "record input";
        if (spec.inputs().has("test")) return "test input";
        return "empty event";
    }

    /** Per function, for {@code GET /stats}: primings done and failed, their recent mean times. */
    record Stats(@JsonProperty("primes") long primes, @JsonProperty("prime_failures") long failures,
                 @JsonProperty("prime_ms") double primeMs, @JsonProperty("prime_exec_ms") double primeExecMs) {}

    Stats stats(String function) {
        Fn f = functions.get(function);
        if (f == null) return new Stats(0, 0, 0, 0);
        return new Stats(f.primed.sum(), f.failed.sum(), f.totalMs.meanMs(), f.execMs.meanMs());
    }

    void forget(String function) {
        functions.remove(function);
    }
}
