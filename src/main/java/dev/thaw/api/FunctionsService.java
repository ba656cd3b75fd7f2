package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import dev.thaw.platform.Call;
import dev.thaw.platform.FunctionBundle;
import dev.thaw.platform.InvocationResult;
import dev.thaw.platform.Platform;
import dev.thaw.platform.ThawException;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Functions: deploy, list, show, remove, and the calls on one function (invoke, prewarm, drop
 * its snapshot from the page cache). Invocations continue the caller's W3C {@code traceparent}
 * and answer with their own.
 */
final class FunctionsService implements ApiService {
    static final HeaderName TRACEPARENT = HeaderNames.create("traceparent");

    private final Platform platform;
    private final Requests requests;
    /** Directories a deploy by path may read from (real paths); empty: any directory of this host. */
    private final List<Path> functionRoots;
    private final List<Endpoint> endpoints;

    FunctionsService(Platform platform, Requests requests, List<Path> functionRoots) {
        this.platform = platform;
        this.requests = requests;
        this.functionRoots = List.copyOf(functionRoots);
        this.endpoints = List.of(
                Endpoint.get("/functions", req -> Reply.json(Status.OK_200, functionList())),
                Endpoint.get("/functions/{name}", req -> Reply.json(Status.OK_200, platform.function(name(req)))),
                Endpoint.put("/functions/{name}", req -> Reply.json(Status.CREATED_201, platform.deploy(bundle(req, name(req))))),
                Endpoint.delete("/functions/{name}", req -> {
                    platform.undeploy(name(req));
                    return Reply.json(Status.OK_200, Json.object().put("deleted", name(req)));
                }),
                Endpoint.post("/functions/{name}/invoke", this::invoke),
                Endpoint.post("/functions/{name}/prewarm", this::prewarm),
                Endpoint.post("/functions/{name}/cache/drop", this::dropCache));
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /** A deploy-by-path directory, checked against {@code --functions-root} after resolving links. */
    private Path allowed(Path dir) {
        if (functionRoots.isEmpty()) return dir;
        Path real;
        try {
            real = dir.toRealPath();
        } catch (java.io.IOException e) {
            throw ThawException.badRequest("cannot read the function directory " + dir + ": " + e.getMessage());
        }
        for (Path root : functionRoots) if (real.startsWith(root)) return real;
        throw new ThawException(ThawException.Kind.FORBIDDEN, "path_not_allowed", dir + " is outside the directories this daemon"
                + " deploys from (--functions-root " + functionRoots + "); upload the function as a tar instead");
    }

    /** {@code {"functions": [...]}}, and {@code "broken": [{"name", "error"}]} when a deployment on disk cannot be used. */
    private Object functionList() {
        var out = dev.thaw.common.Json.object();
        out.set("functions", dev.thaw.common.Json.MAPPER.valueToTree(platform.functions()));
        var broken = platform.brokenFunctions();
        if (!broken.isEmpty()) {
            var list = out.putArray("broken");
            broken.forEach((name, error) -> list.addObject().put("name", name).put("error", error));
        }
        return out;
    }

    private static String name(ServerRequest req) {
        return Requests.param(req, "name");
    }

    private Reply invoke(ServerRequest req) throws IOException {
        String name = name(req);
        Map<String, String> query = Requests.query(req);
        Mode mode;
        try {
            mode = Mode.parse(query.get("mode"));
        } catch (IllegalArgumentException e) {
            ThawException bad = new ThawException(ThawException.Kind.INVALID, "bad_mode", e.getMessage());
            platform.invoker().countError(name, bad);
            throw bad;
        }
        JsonNode event = requests.event(req);
        Call call = Call.external(req.headers().first(TRACEPARENT).orElse(null));
        if ("true".equals(query.get("async"))) {
            return Reply.json(Status.ACCEPTED_202, platform.invoker().invokeAsync(name, event, mode, call));
        }
        InvocationResult result = platform.invoker().invoke(name, event, mode, call);
        Reply reply = Reply.json(Status.OK_200, result);
        return result.traceparent() == null ? reply : reply.with(TRACEPARENT, result.traceparent());
    }

    private Reply prewarm(ServerRequest req) {
        String count = Requests.query(req).getOrDefault("count", "1");
        int n;
        try {
            n = Integer.parseInt(count);
        } catch (NumberFormatException e) {
            throw ThawException.badRequest("count must be a whole number, got " + count);
        }
        ArrayNode ids = Json.MAPPER.createArrayNode();
        platform.prewarm(name(req), n).forEach(ids::add);
        ObjectNode out = Json.object().put("function", name(req));
        out.set("instances", ids);
        return Reply.json(Status.OK_200, out);
    }

    private Reply dropCache(ServerRequest req) {
        ArrayNode dropped = Json.MAPPER.createArrayNode();
        platform.dropPageCache(name(req)).forEach(f -> dropped.add(f.toString()));
        ObjectNode out = Json.object();
        out.set("dropped", dropped);
        return Reply.json(Status.OK_200, out);
    }

    /** A deploy body: a tar of the function directory, or JSON {"path": "/dir/on/the/daemon/host"}. */
    private FunctionBundle bundle(ServerRequest req, String name) throws IOException {
        byte[] body = requests.body(req);
        String type = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
        FunctionBundle b;
        if (type.startsWith("application/x-tar") || type.startsWith("application/octet-stream")) {
            b = FunctionBundle.fromTar(body);
        } else {
            JsonNode json = Requests.parseJson(body);
            String path = json.path("path").asText(null);
            if (path == null) {
                throw ThawException.badRequest("deploy body must be a tar (Content-Type: application/x-tar) or JSON {\"path\": \"/function/dir\"}");
            }
            b = FunctionBundle.fromDirectory(allowed(Path.of(path)));
        }
        if (!b.spec().name().equals(name)) {
            throw ThawException.badRequest("URL names function \"" + name + "\" but its function.json says \"" + b.spec().name() + "\"");
        }
        return b;
    }
}
