package dev.thaw.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.platform.AsyncInvocations;
import dev.thaw.platform.Platform;
import io.helidon.http.Status;

import java.util.List;

/**
 * Asynchronous invocations ({@code ?async=true}) looked up by id. The answer carries, as
 * {@code status}, the HTTP status the call would have had if it had been synchronous.
 */
final class InvocationsService implements ApiService {
    private final Platform platform;
    private final List<Endpoint> endpoints;

    InvocationsService(Platform platform) {
        this.platform = platform;
        this.endpoints = List.of(Endpoint.get("/invocations/{id}", req -> show(Requests.param(req, "id"))));
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    private Reply show(String id) {
        AsyncInvocations.Status status = platform.invoker().invocation(id);
        ObjectNode o = Json.MAPPER.valueToTree(status);
        if (status.errorKind() != null) o.put("status", ErrorStatus.of(status.errorKind()).code());
        else if (status.response() != null) o.put("status", Status.OK_200.code());
        return Reply.json(Status.OK_200, o);
    }
}
