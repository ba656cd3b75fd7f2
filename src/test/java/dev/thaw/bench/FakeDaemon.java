package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.client.DaemonException;
import dev.thaw.common.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/** A scripted daemon: records every call, answers like thaw's API, knows only the modes it is given. */
final class FakeDaemon implements Daemon {
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    final Set<String> deployed = Collections.synchronizedSet(new HashSet<>());
    final Set<String> modes;
    final boolean dropEndpoint;
    final Path snapshotDir;
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final ArrayNode instances = Json.MAPPER.createArrayNode();
    /** Invocations answered before the daemon "dies" (then every call fails as unreachable); -1 = never. */
    int dieAfter = -1;
    private final AtomicInteger invocations = new AtomicInteger();

    FakeDaemon(Set<String> modes, boolean dropEndpoint, Path snapshotDir) {
        this.modes = modes;
        this.dropEndpoint = dropEndpoint;
        this.snapshotDir = snapshotDir;
    }

    /** How many more health checks answer that the start-up snapshot check is still running. */
    int healthChecksBeforeVerified;

    @Override
    public JsonNode health() {
        calls.add("health");
        var h = Json.object().put("accel", "tcg");
        if (healthChecksBeforeVerified > 0) {
            healthChecksBeforeVerified--;
            h.put("snapshots_verified", false);
        } else {
            h.put("snapshots_verified", true);
        }
        return h;
    }

    @Override
    public Optional<JsonNode> function(String name) {
        calls.add("get " + name);
        return deployed.contains(name) ? Optional.of(Json.object().put("name", name).put("memory_mib", 512)) : Optional.empty();
    }

    @Override
    public JsonNode deploy(String name, Path dir) {
        calls.add("deploy " + name);
        if (name.equals("broken")) throw new DaemonException(400, "deploy_failed", "loading broken failed");
        deployed.add(name);
        return Json.object().put("name", name).put("memory_mib", 256);
    }

    @Override
    public JsonNode invoke(String name, String mode, JsonNode event) {
        if (dieAfter >= 0 && invocations.getAndIncrement() >= dieAfter) throw new IllegalStateException("cannot reach the daemon");
        calls.add("invoke " + name + " " + mode + " " + event);
        if (!modes.contains(mode)) throw new DaemonException(400, "bad_mode", "unknown mode \"" + mode + "\"");
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        try {
            Thread.sleep(30); // long enough for concurrent invocations to overlap
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.decrementAndGet();
        }
        if (event.path("fail").asBoolean()) throw new DaemonException(500, "handler_error", name + " raised ValueError");
        return mode.equals("warm") ? Answers.warm(3) : Answers.restore(mode, 100, 5, 4096, 10, 8);
    }

    @Override
    public Optional<List<String>> dropCache(String name) {
        calls.add("drop " + name);
        return dropEndpoint ? Optional.of(List.of("/x/" + name + "/memory")) : Optional.empty();
    }

    @Override
    public JsonNode snapshots() {
        calls.add("snapshots");
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (String fn : List.of("hello", "json")) {
            ObjectNode s = out.addObject().put("function", fn).put("path", snapshotDir.resolve(fn).toString());
            s.putArray("files").addObject().put("name", "memory").put("size", 4096);
        }
        return out;
    }

    @Override
    public JsonNode instances() {
        calls.add("instances");
        return instances;
    }

    @Override
    public void stopInstance(String id) {
        calls.add("stop " + id);
    }

    long count(String prefix) {
        synchronized (calls) {
            return calls.stream().filter(c -> c.startsWith(prefix)).count();
        }
    }
}
