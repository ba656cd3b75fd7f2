package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.memory.PageServer;
import dev.thaw.model.Mode;
import dev.thaw.vm.Guest;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** A running guest serving one function, one invocation at a time. */
public final class Instance implements AutoCloseable {
    public enum State { IDLE, BUSY, STOPPED }

    private final String function;
    private final Mode origin;
    private final int memoryMib;
    private final Guest guest;
    private final Instant created = Instant.now();
    private final AtomicInteger invocations = new AtomicInteger();
    /** A restored clone that has not answered a call yet: its RNGs are still the snapshot's. */
    private final AtomicBoolean unseeded;
    private volatile State state = State.BUSY;
    private volatile long idleSinceNanos;
    private volatile PageServer pageServer;

    Instance(String function, Mode origin, int memoryMib, Guest guest) {
        this.unseeded = new AtomicBoolean(origin != Mode.COLD);
        this.function = function;
        this.origin = origin;
        this.memoryMib = memoryMib;
        this.guest = guest;
    }

    public String id() {
        return guest.id();
    }

    public String function() {
        return function;
    }

    /** Guest memory reserved for this instance in the budget. */
    int memoryMib() {
        return memoryMib;
    }

    Guest guest() {
        return guest;
    }

    /** The page server serving this instance's guest memory (userfaultfd strategies), else null. */
    PageServer pageServer() {
        return pageServer;
    }

    void pageServer(PageServer server) {
        this.pageServer = server;
    }

    State state() {
        return state;
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    void markBusy() {
        state = State.BUSY;
        invocations.incrementAndGet();
    }

    void markIdle(long nowNanos) {
        idleSinceNanos = nowNanos;
        state = State.IDLE;
    }

    /** True exactly once for a restored instance: its first call must carry a fresh seed. */
    boolean takeUnseeded() {
        return unseeded.getAndSet(false);
    }

    boolean alive() {
        return state != State.STOPPED && guest.alive();
    }

    /** A JSON-friendly view for {@code GET /instances}. */
    public record Info(@JsonProperty("id") String id, @JsonProperty("function") String function,
                       @JsonProperty("state") String state, @JsonProperty("origin") String origin,
                       @JsonProperty("pid") long pid, @JsonProperty("created") String created,
                       @JsonProperty("invocations") int invocations) {}

    public Info info() {
        return new Info(id(), function, state.name().toLowerCase(), origin.id(), guest.pid(), created.toString(), invocations.get());
    }

    @Override
    public void close() {
        state = State.STOPPED;
        guest.close();
        PageServer p = pageServer;
        if (p != null) p.close(); // ends with the VMM anyway; this also waits for its thread
    }
}
