package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.guest.AgentConnection;
import dev.thaw.vm.QemuVm;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

/** A running VM serving one function, one invocation at a time. */
public final class Instance implements AutoCloseable {
    public enum State { IDLE, BUSY, STOPPED }

    private final String id;
    private final String function;
    private final String origin;
    private final QemuVm vm;
    private final AgentConnection agent;
    private final Instant created = Instant.now();
    private final AtomicInteger invocations = new AtomicInteger();
    private volatile State state = State.BUSY;
    private volatile long idleSinceNanos = System.nanoTime();

    private final int memoryMib;

    Instance(String id, String function, String origin, int memoryMib, QemuVm vm, AgentConnection agent) {
        this.memoryMib = memoryMib;
        this.id = id;
        this.function = function;
        this.origin = origin;
        this.vm = vm;
        this.agent = agent;
    }

    public String id() {
        return id;
    }

    public String function() {
        return function;
    }

    /** Guest memory reserved for this instance in the admission budget. */
    int memoryMib() {
        return memoryMib;
    }

    QemuVm vm() {
        return vm;
    }

    AgentConnection agent() {
        return agent;
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

    void markIdle() {
        idleSinceNanos = System.nanoTime();
        state = State.IDLE;
    }

    boolean alive() {
        return state != State.STOPPED && vm.alive();
    }

    /** A JSON-friendly view for {@code GET /instances}. */
    public record Info(@JsonProperty("id") String id, @JsonProperty("function") String function,
                       @JsonProperty("state") String state, @JsonProperty("origin") String origin,
                       @JsonProperty("pid") long pid, @JsonProperty("created") String created,
                       @JsonProperty("invocations") int invocations) {}

    public Info info() {
        return new Info(id, function, state.name().toLowerCase(), origin, vm.pid(), created.toString(), invocations.get());
    }

    @Override
    public void close() {
        state = State.STOPPED;
        agent.close();
        vm.close();
    }
}
