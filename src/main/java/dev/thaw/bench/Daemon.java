package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The part of thaw's HTTP API a benchmark uses. Kept to what the runner needs so it can be run
 * against a scripted daemon in tests; {@link HttpDaemon} is the real one. Failures are
 * {@link Failure}s (the daemon answered with an error status) or {@link IllegalStateException}s
 * (it could not be reached).
 */
public interface Daemon {
    /** The daemon answered with an error: its HTTP status, error code and message. */
    final class Failure extends RuntimeException {
        private final int status;
        private final String code;

        public Failure(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }

        /** The daemon does not know the mode it was asked for (HTTP 400 {@code bad_mode}): an older daemon. */
        public boolean unknownMode() {
            return status == 400 && ("bad_mode".equals(code) || String.valueOf(getMessage()).contains("unknown mode"));
        }
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
