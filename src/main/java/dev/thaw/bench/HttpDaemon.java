package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.client.DaemonClient;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** {@link Daemon} over HTTP: each call is the {@link DaemonClient} call of the same name. */
public final class HttpDaemon implements Daemon {
    private final DaemonClient client;

    public HttpDaemon(String baseUrl) {
        this.client = new DaemonClient(baseUrl);
    }

    public String url() {
        return client.url();
    }

    @Override
    public JsonNode health() {
        return client.health();
    }

    @Override
    public Optional<JsonNode> function(String name) {
        return client.function(name);
    }

    @Override
    public JsonNode deploy(String name, Path dir) {
        return client.deploy(name, dir);
    }

    @Override
    public JsonNode invoke(String name, String mode, JsonNode event) {
        return client.invoke(name, mode, event);
    }

    @Override
    public Optional<List<String>> dropCache(String name) {
        return client.dropCache(name);
    }

    @Override
    public JsonNode snapshots() {
        return client.snapshots();
    }

    @Override
    public JsonNode instances() {
        return client.instances();
    }

    @Override
    public void stopInstance(String id) {
        client.stopInstance(id);
    }
}
