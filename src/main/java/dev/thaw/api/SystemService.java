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
    private final TransferFault fault = TransferFault.fromSystemProperty();
    private final TransferThrottle throttle = TransferThrottle.fromSystemProperty();

    SystemService(Platform platform) {
        this.platform = platform;
        byte[] openapi = openapi();
        this.endpoints = List.of(
                Endpoint.get("/healthz", req -> health()),
                Endpoint.get("/metrics", req -> Reply.bytes(Status.OK_200, "text/plain; version=0.0.4",
                        platform.metrics().render().getBytes(StandardCharsets.UTF_8))),
                Endpoint.get("/stats", req -> Reply.json(Status.OK_200, platform.stats())),
                Endpoint.get("/snapshots", req -> Reply.json(Status.OK_200, Map.of("snapshots", platform.snapshots()))),
                Endpoint.get("/snapshots/{name}/files/{file}", this::snapshotFile),
                Endpoint.get("/openapi.yaml", req -> Reply.bytes(Status.OK_200, "application/yaml", openapi)));
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    private Reply health() {
        return Reply.json(Status.OK_200, platform.health());
    }

    /** Largest piece of a snapshot file one request answers: peers fetch memory files in pieces. */
    static final long MAX_PIECE = 16L << 20;

    /**
     * A piece of one file of a function's snapshot ({@code manifest.json} or a file the manifest
     * names), {@code offset} and {@code length} bytes (at most 16 MiB): how a cluster node fetches
     * a snapshot from a peer, the working set first. A standard {@code Range: bytes=A-B} header
     * (one range; {@code A-}, {@code -N} too) asks for the same and is answered 206 with
     * {@code Content-Range}, at most 16 MiB of it (the header says how much). The manifest's
     * checksums are the receiver's to check.
     */
    private Reply snapshotFile(io.helidon.webserver.http.ServerRequest req) throws IOException {
        String name = Requests.param(req, "name");
        String file = Requests.param(req, "file");
        java.nio.file.Path path = platform.snapshotFile(name, file);
        if (!java.nio.file.Files.isRegularFile(path)) throw dev.thaw.platform.ThawException.notFound("the snapshot of " + name + " has no " + file);
        Map<String, String> q = Requests.query(req);
        long size = java.nio.file.Files.size(path);
        String range = req.headers().first(io.helidon.http.HeaderNames.RANGE).orElse(null);
        long offset, length;
        if (range != null) {
            if (q.containsKey("offset") || q.containsKey("length")) {
                throw dev.thaw.platform.ThawException.badRequest("give a Range header or offset/length, not both");
            }
            long[] r = ByteRange.parse(range, size);
            offset = r[0];
            length = Math.min(r[1] - r[0], MAX_PIECE);
        } else {
            offset = longParam(q, "offset", 0);
            length = longParam(q, "length", Math.min(size, MAX_PIECE));
            if (offset < 0 || length < 0 || length > MAX_PIECE) {
                throw dev.thaw.platform.ThawException.badRequest("offset must be >= 0 and length between 0 and " + MAX_PIECE);
            }
            length = Math.max(0, Math.min(length, size - offset));
        }
        byte[] body = new byte[(int) length];
        try (var ch = java.nio.channels.FileChannel.open(path)) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(body);
            while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) { /* read on */ }
        }
        String fetcher = req.headers().first(io.helidon.http.HeaderNames.create(TransferFault.FETCHER_HEADER)).orElse(null);
        if (fault != null) fault.apply(fetcher, file, body);
        if (throttle != null) throttle.apply(fetcher, body.length);
        Reply reply = Reply.bytes(range != null ? Status.PARTIAL_CONTENT_206 : Status.OK_200, "application/octet-stream", body)
                .with(io.helidon.http.HeaderNames.create("X-Thaw-File-Size"), Long.toString(size));
        return range == null ? reply : reply.with(io.helidon.http.HeaderNames.CONTENT_RANGE,
                "bytes " + offset + "-" + (offset + length - 1) + "/" + size);
    }

    private static long longParam(Map<String, String> q, String key, long dflt) {
        String v = q.get(key);
        if (v == null) return dflt;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw dev.thaw.platform.ThawException.badRequest(key + " must be a whole number, got \"" + v + "\"");
        }
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
