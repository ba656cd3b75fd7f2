package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/** A small client of the daemon's HTTP API, used by the CLI, the demo and the benchmarks. */
public final class ThawClient {
    /** A non-2xx answer: its status and the daemon's JSON error. */
    public static final class ApiException extends RuntimeException {
        private final int status;
        private final JsonNode body;

        ApiException(int status, JsonNode body, String what) {
            super(what + ": HTTP " + status + " " + body.path("error").path("code").asText("")
                    + ": " + body.path("error").path("message").asText(body.toString()));
            this.status = status;
            this.body = body;
        }

        public int status() {
            return status;
        }

        public JsonNode body() {
            return body;
        }
    }

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ThawClient(String baseUrl) {
        this.base = baseUrl.replaceAll("/+$", "");
    }

    public JsonNode deploy(String name, Path dir) {
        String body = Json.write(Json.object().put("path", dir.toAbsolutePath().toString()));
        return send(HttpRequest.newBuilder(uri("/functions/" + name)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofMinutes(5)).build(), "deploy " + name);
    }

    public JsonNode invoke(String name, String mode, JsonNode event) {
        String q = mode == null ? "" : "?mode=" + URLEncoder.encode(mode, StandardCharsets.UTF_8);
        return send(HttpRequest.newBuilder(uri("/functions/" + name + "/invoke" + q)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(event))).timeout(Duration.ofMinutes(10)).build(), "invoke " + name);
    }

    public JsonNode post(String path) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofMinutes(1)).build(), "POST " + path);
    }

    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().timeout(Duration.ofSeconds(30)).build(), "GET " + path);
    }

    public JsonNode delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE().timeout(Duration.ofSeconds(30)).build(), "DELETE " + path);
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private JsonNode send(HttpRequest req, String what) {
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            JsonNode body = r.body().isEmpty() ? Json.object() : Json.parse(r.body());
            if (r.statusCode() / 100 != 2) throw new ApiException(r.statusCode(), body, what);
            return body;
        } catch (IOException e) {
            throw new IllegalStateException(what + ": cannot reach the daemon at " + base + " (" + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted");
        }
    }
}
