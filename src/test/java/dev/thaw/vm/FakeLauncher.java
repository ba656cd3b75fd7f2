package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * A {@link GuestLauncher} of {@link FakeGuest}s: the platform's logic tested without QEMU, the way
 * HikariCP tests its pool on stub connections.
 *
 * <p>What a guest does is scripted here. Every step advances the test's clock by a fixed,
 * configurable time instead of taking it (so timings are exact and no test sleeps), and events
 * carry instructions the fake obeys, to reach every path of the platform:
 *
 * <ul>
 *   <li>{@code {"raise": "msg"}}: the handler raises (a guest-side error reply);</li>
 *   <li>{@code {"hang": true}}: the guest does not answer in time (a {@link VmException.Timeout});</li>
 *   <li>{@code {"die": true}}: the VM dies during the call (a {@link VmException.Died});</li>
 *   <li>{@code {"gate": "name"}}: the call waits until the test opens that gate ({@link #gate});</li>
 *   <li>{@code {"claim_exec_ms": x}}: the guest reports {@code x} as its handler's time, true or not;</li>
 *   <li>{@code {"claim_reseed_ms": x}}: the guest reports {@code x} (any JSON) as its reseed's time;</li>
 *   <li>{@code {"call": {"function": f, "event": e}}}: the handler calls another function through
 *       the platform, as {@code thaw.invoke} does, and returns that call's reply.</li>
 * </ul>
 * Anything else is echoed back as {@code {"echo": event, "function": name}}.
 */
public final class FakeLauncher implements GuestLauncher {
    /** Scripted durations of a guest's steps, in milliseconds of the test clock. */
    public record Steps(long vmmStartMs, long stateLoadMs, long resumeMs, long bootMs, long loadMs, long execMs) {
        public static final Steps DEFAULT = new Steps(100, 20, 1, 3000, 200, 5);
    }

    private final LongConsumer advance;
    private volatile Steps steps = Steps.DEFAULT;
    private final List<FakeGuest> launched = new CopyOnWriteArrayList<>();
    private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    private final java.util.concurrent.Semaphore arrivals = new java.util.concurrent.Semaphore(0);
    private final AtomicInteger boots = new AtomicInteger();
    private final AtomicInteger restores = new AtomicInteger();
    private final AtomicReference<RuntimeException> nextLaunchFailure = new AtomicReference<>();

    /** @param advance moves the test's clock forward by the given nanoseconds */
    public FakeLauncher(LongConsumer advance) {
        this.advance = advance;
    }

    @Override
    public Guest launch(VmConfig config, String id, CallHandler calls) {
        RuntimeException failure = nextLaunchFailure.getAndSet(null);
        if (failure != null) throw failure;
        (config.restoring() ? restores : boots).incrementAndGet();
        FakeGuest g = new FakeGuest(this, id, config, calls);
        launched.add(g);
        advanceMs(steps.vmmStartMs());
        return g;
    }

    @Override
    public Accel accel() {
        return Accel.TCG;
    }

    public void steps(Steps s) {
        this.steps = s;
    }

    Steps steps() {
        return steps;
    }

    void advanceMs(long ms) {
        advance.accept(ms * 1_000_000L);
    }

    /** The next launch fails with {@code e} (e.g. QEMU cannot start). */
    public void failNextLaunch(RuntimeException e) {
        nextLaunchFailure.set(e);
    }

    /** The gate that events naming it wait on; open it with {@code countDown()}. */
    public CountDownLatch gate(String name) {
        return gates.computeIfAbsent(name, k -> new CountDownLatch(1));
    }

    /** Every guest launched so far, in order. */
    public List<FakeGuest> launched() {
        return List.copyOf(launched);
    }

    /** Guests still running. */
    public long running() {
        return launched.stream().filter(FakeGuest::alive).count();
    }

    public int boots() {
        return boots.get();
    }

    public int restores() {
        return restores.get();
    }

    /** Waits until {@code n} more invocations are waiting at a gate (since the last wait). */
    public void awaitAtGate(int n) {
        try {
            if (!arrivals.tryAcquire(n, 10, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError("fewer than " + n + " invocations reached a gate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    void arrived() {
        arrivals.release();
    }

    static JsonNode echo(String function, JsonNode event) {
        var o = dev.thaw.common.Json.object().put("function", function);
        o.set("echo", event);
        return o;
    }
}
