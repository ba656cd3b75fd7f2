package dev.thaw.api;

import dev.thaw.common.Json;
import dev.thaw.platform.Platform;
import io.helidon.http.Status;

import java.util.List;
import java.util.Map;

/** Running VMs: list them, stop one. */
final class InstancesService implements ApiService {
    private final List<Endpoint> endpoints;

    InstancesService(Platform platform) {
        this.endpoints = List.of(
                Endpoint.get("/instances", req -> Reply.json(Status.OK_200, Map.of("instances", platform.instances()))),
                Endpoint.delete("/instances/{id}", req -> {
                    String id = Requests.param(req, "id");
                    platform.stopInstance(id);
                    return Reply.json(Status.OK_200, Json.object().put("stopped", id));
                }));
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }
}
