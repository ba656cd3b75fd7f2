package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.client.DaemonException;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The part of thaw's HTTP API a benchmark uses. Kept to what the runner needs so it can be run
 * against a scripted daemon in tests; {@link HttpDaemon} is the real one, a thin adapter over
 * {@link dev.thaw.client.DaemonClient}. Failures are the client's: {@link DaemonException}s (the
 * daemon answered with an error status) or {@link dev.thaw.client.DaemonUnreachableException}s
 * (it could not be reached).
 */
public interface Daemon {
    /** The daemon does not know the mode it was asked for (HTTP 400 {@code bad_mode}): an older daemon. */
    static boolean unknownMode(DaemonException e) {
        return e.status() == 400 && ("bad_mode".equals(e.code()) || String.valueOf(e.errorMessage()).contains("unknown mode"));
    }

    /** {@code GET /healthz}: at least {@code accel}. */
    JsonNode health();

    /** {@code GET /functions/{name}}, or empty when no such function is deployed. */
    Optional<JsonNode> function(String name);

    /** {@code PUT /functions/{name}} from a function directory on this host. */
    JsonNode deploy(String name, Path dir);

    /** {@code POST /functions/{name}/invoke?mode=…} with the event as body. */
    JsonNode invoke(String name, String mode, JsonNode event);

    /**
     * {@code POST /functions/{name}/cache/drop}: stop the function's idle instances and drop its
     * snapshot files from the page cache. Empty when the daemon has no such endpoint (HTTP 404).
     */
    Optional<List<String>> dropCache(String name);

    /** {@code GET /snapshots}: the {@code snapshots} array. */
    JsonNode snapshots();

    /** {@code GET /instances}: the {@code instances} array. */
    JsonNode instances();

    /** {@code DELETE /instances/{id}}. */
    void stopInstance(String id);
}
