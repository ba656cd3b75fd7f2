package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ThawClient;
import dev.thaw.api.ThawClient.ApiException;
import dev.thaw.common.Json;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link Daemon} over HTTP: {@link ThawClient} for the calls it has, one direct request for the cache drop. */
public final class HttpDaemon implements Daemon {
    private final String base;
    private final ThawClient client;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public HttpDaemon(String baseUrl) {
        this.base = baseUrl.replaceAll("/+$", "");
        this.client = new ThawClient(base);
    }

    public String url() {
        return base;
    }

    @Override
    public JsonNode health() {
        try {
            return client.get("/healthz");
        } catch (ApiException e) {
            throw failure(e);
        }
    }

    @Override
    public Optional<JsonNode> function(String name) {
        try {
            return Optional.of(client.get("/functions/" + name));
        } catch (ApiException e) {
            if (e.status() == 404) return Optional.empty();
            throw failure(e);
        }
    }

    @Override
    public JsonNode deploy(String name, Path dir) {
        try {
            return client.deploy(name, dir);
        } catch (ApiException e) {
            throw failure(e);
        }
    }

    @Override
    public JsonNode invoke(String name, String mode, JsonNode event) {
        try {
            return client.invoke(name, mode, event);
        } catch (ApiException e) {
            throw failure(e);
        }
    }

    private static Failure failure(ApiException e) {
        return new Failure(e.status(), e.body().path("error").path("code").asText(""), e.getMessage());
    }

    @Override
    public Optional<List<String>> dropCache(String name) {
        String what = "drop the page cache of " + name;
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/functions/" + name + "/cache/drop"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofMinutes(2)).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 404) return Optional.empty();
            JsonNode body = r.body().isEmpty() ? Json.object() : Json.parse(r.body());
            if (r.statusCode() / 100 != 2) {
                throw new Failure(r.statusCode(), body.path("error").path("code").asText(""),
                        what + ": HTTP " + r.statusCode() + " " + body.path("error").path("message").asText(r.body()));
            }
            List<String> dropped = new ArrayList<>();
            body.path("dropped").forEach(p -> dropped.add(p.asText()));
            return Optional.of(dropped);
        } catch (IOException e) {
            throw new IllegalStateException(what + ": cannot reach the daemon at " + base + " (" + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted", e);
        }
    }

    @Override
    public JsonNode snapshots() {
        try {
            return client.get("/snapshots").path("snapshots");
        } catch (ApiException e) {
            throw failure(e);
        }
    }

    @Override
    public JsonNode instances() {
        try {
            return client.get("/instances").path("instances");
        } catch (ApiException e) {
            throw failure(e);
        }
    }

    @Override
    public void stopInstance(String id) {
        try {
            client.delete("/instances/" + id);
        } catch (ApiException e) {
            if (e.status() != 404) throw failure(e); // 404: already gone (idle instances time out on their own)
        }
    }
}
