package dev.thaw.api;

import dev.thaw.common.Json;
import dev.thaw.platform.Platform;
import io.helidon.http.Status;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** The daemon itself: liveness, Prometheus metrics, per-function scaling stats, snapshot manifests, and the API's own description. */
final class SystemService implements ApiService {
    static final String OPENAPI_RESOURCE = "/openapi.yaml";

    private final Platform platform;
    private final List<Endpoint> endpoints;

    SystemService(Platform platform) {
        this.platform = platform;
        byte[] openapi = openapi();
        this.endpoints = List.of(
                Endpoint.get("/healthz", req -> health()),
                Endpoint.get("/metrics", req -> Reply.bytes(Status.OK_200, "text/plain; version=0.0.4",
                        platform.metrics().render().getBytes(StandardCharsets.UTF_8))),
                Endpoint.get("/stats", req -> Reply.json(Status.OK_200, platform.stats())),
                Endpoint.get("/snapshots", req -> Reply.json(Status.OK_200, Map.of("snapshots", platform.snapshots()))),
                Endpoint.get("/openapi.yaml", req -> Reply.bytes(Status.OK_200, "application/yaml", openapi)));
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    private Reply health() {
        return Reply.json(Status.OK_200, platform.health());
    }

    /** The OpenAPI document shipped in the jar, read once: served as it is written. */
    static byte[] openapi() {
        try (InputStream in = SystemService.class.getResourceAsStream(OPENAPI_RESOURCE)) {
            if (in == null) throw new IllegalStateException(OPENAPI_RESOURCE + " is missing from the classpath");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + OPENAPI_RESOURCE, e);
        }
    }
}
