package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.memory.FirecrackerStandIn;
import dev.thaw.memory.ProcessStats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted {@link Guest} (see {@link FakeLauncher} for the script). It keeps the invariants the
 * platform relies on: a restored guest must load its state before it resumes and must resume
 * before it answers; a dead guest answers nothing; a booted guest with a memory file writes one,
 * and its snapshot writes a vmstate that names the function, which is how a restored fake knows
 * what it runs.
 */
public final class FakeGuest implements Guest {
    private final FakeLauncher launcher;
    private final String id;
    private final VmConfig config;
    private final CallHandler calls;
    private volatile String function;
    private volatile boolean stateLoaded;
    private volatile boolean running;
    private volatile boolean dead;
    private volatile boolean closed;
    private final AtomicInteger requests = new AtomicInteger();
    private final java.util.List<ObjectNode> invokes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final FirecrackerStandIn memory;

    FakeGuest(FakeLauncher launcher, String id, VmConfig config, CallHandler calls) {
        this.launcher = launcher;
        this.id = id;
        this.config = config;
        this.calls = calls;
        this.running = !config.restoring();
        if (config.memoryFile() != null && config.sharedMemory()) {
            write(config.memoryFile(), new byte[64 * 1024]);
        }
        this.memory = config.uffd() != null ? handOverMemory(config) : null;
    }

    /**
     * What thaw's preload does in QEMU: guest RAM (the size of the file QEMU would have mapped: the
     * snapshot's memory file, or a pooled VMM's placeholder) becomes anonymous memory behind a
     * real userfaultfd, handed to the page server on the config's socket with Firecracker's
     * handshake. So a fake restore over userfaultfd runs the real page server, bind and install.
     */
    private static FirecrackerStandIn handOverMemory(VmConfig config) {
        try {
            return new FirecrackerStandIn(config.uffd().socket(), Files.size(config.memoryFile()), 0);
        } catch (IOException e) {
            throw new VmException("the fake VMM could not hand over its memory: " + e.getMessage(), e);
        }
    }

    /** The guest RAM a page server serves (null unless the VM runs over userfaultfd). */
    public java.lang.foreign.MemorySegment memory() {
        return memory == null ? null : memory.memory();
    }

    @Override
    public String id() {
        return id;
    }

    public VmConfig config() {
        return config;
    }

    public String function() {
        return function;
    }

    /** Every invoke request this guest received, in order. */
    public java.util.List<ObjectNode> invokes() {
        return java.util.List.copyOf(invokes);
    }

    public int requests() {
        return requests.get();
    }

    public boolean closed() {
        return closed;
    }

    /** Kills the VM from outside, as a crash or `kill -9` would. */
    public void kill() {
        dead = true;
    }

    @Override
    public void awaitReady(Duration timeout) {
        check();
        if (config.restoring()) throw new IllegalStateException("a restored guest sends no ready line");
        launcher.advanceMs(launcher.steps().bootMs());
    }

    @Override
    public void loadState(Duration timeout) {
        loadState(config.incomingState(), timeout);
    }

    @Override
    public void loadState(java.nio.file.Path vmstate, Duration timeout) {
        check();
        if (!config.restoring()) throw new IllegalStateException("this guest was booted, not restored");
        if (stateLoaded) throw new IllegalStateException("a guest loads one device state, once");
        try {
            function = Json.parse(Files.readString(vmstate)).path("function").asText();
        } catch (IOException e) {
            throw new VmException("loading the snapshot state failed: " + e.getMessage(), e);
        }
        stateLoaded = true;
        launcher.advanceMs(launcher.steps().stateLoadMs());
    }

    @Override
    public void resume() {
        check();
        if (config.restoring() && !stateLoaded) throw new IllegalStateException("resume before loadState");
        running = true;
        launcher.advanceMs(launcher.steps().resumeMs());
    }

    @Override
    public JsonNode request(ObjectNode request, Duration timeout) {
        check();
        if (!running) throw new IllegalStateException("request to a paused guest");
        requests.incrementAndGet();
        return switch (request.path("op").asText()) {
            case "load" -> {
                function = request.path("function").path("name").asText();
                launcher.advanceMs(launcher.steps().loadMs());
                yield Json.object().put("ok", true).put("function", function);
            }
            case "invoke" -> {
                invokes.add(request.deepCopy());
                yield invoke(request);
            }
            case "before_snapshot" -> Json.object().put("ok", true);
            default -> Json.object().put("ok", false).set("error",
                    Json.object().put("type", "ValueError").put("message", "unknown op"));
        };
    }

    private JsonNode invoke(ObjectNode request) {
        JsonNode event = request.path("event");
        if (event.has("gate")) {
            launcher.arrived();
            try {
                if (!launcher.gate(event.path("gate").asText()).await(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("gate " + event.path("gate").asText() + " was never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmException("interrupted");
            }
        }
        if (event.path("hang").asBoolean()) throw new VmException.Timeout("timed out waiting for the guest's reply to invoke");
        if (event.path("die").asBoolean()) {
            dead = true;
            throw new VmException.Died("the VM's agent connection closed (VM exited)");
        }
        long execMs = launcher.steps().execMs();
        launcher.advanceMs(execMs);
        ObjectNode reply = Json.object().put("exec_ms", event.has("claim_exec_ms") ? event.path("claim_exec_ms").asDouble() : (double) execMs);
        if (event.has("claim_reseed_ms")) reply.set("reseed_ms", event.get("claim_reseed_ms"));
        if (event.has("raise")) {
            reply.put("ok", false).set("error", Json.object().put("type", "ValueError")
                    .put("message", event.path("raise").asText()).put("traceback", "Traceback: ValueError"));
            return reply;
        }
        if (event.has("call")) {
            ObjectNode call = Json.object().put("call", 1).put("op", "invoke")
                    .put("function", event.path("call").path("function").asText())
                    .put("parent", request.path("invocation").asText());
            call.set("event", event.path("call").path("event"));
            JsonNode answer = calls.call(call);
            return reply.put("ok", true).set("result", answer);
        }
        return reply.put("ok", true).set("result", FakeLauncher.echo(function, event));
    }

    @Override
    public void snapshot(Path vmstate, Duration timeout) {
        check();
        if (config.memoryFile() == null || !config.sharedMemory()) {
            throw new IllegalStateException("only a VM booted with a shared memory file can be snapshotted");
        }
        running = false;
        write(vmstate, Json.write(Json.object().put("function", function)).getBytes());
    }

    @Override
    public boolean alive() {
        return !dead && !closed;
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public ProcessStats processStats() {
        return null;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        // Unmapping guest RAM while a page server still copies into it is the same race as a QEMU
        // killed mid-install, which the server survives (it sees ENOENT/EFAULT and ends).
        if (memory != null) memory.close();
    }

    private void check() {
        if (closed) throw new VmException.Died("the guest was closed");
        if (dead) throw new VmException.Died("the VM exited");
    }

    private static void write(Path file, byte[] data) {
        try {
            Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
