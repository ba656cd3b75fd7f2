package dev.thaw.api;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One row of the API's route table: a method, a path template in the syntax Helidon and OpenAPI
 * share ({@code /functions/{name}}), and what answers it.
 *
 * <p>Each service lists its endpoints once, and the same list both registers the routes
 * ({@link #register}) and is what the test compares with {@code openapi.yaml}: the document and
 * the routing cannot drift apart without a test failing. {@link #register} also adds, after a
 * path's methods, a catch-all for that path that answers 405 with an {@code Allow} header, so
 * every wrong method on every route is a 405, never a 404.
 */
record Endpoint(Method method, String path, Action action) {
    /** What answers a request: a {@link Reply}, or a thrown exception the server turns into one. */
    @FunctionalInterface
    interface Action {
        Reply handle(ServerRequest req) throws IOException;
    }

    static Endpoint get(String path, Action action) {
        return new Endpoint(Method.GET, path, action);
    }

    static Endpoint put(String path, Action action) {
        return new Endpoint(Method.PUT, path, action);
    }

    static Endpoint post(String path, Action action) {
        return new Endpoint(Method.POST, path, action);
    }

    static Endpoint delete(String path, Action action) {
        return new Endpoint(Method.DELETE, path, action);
    }

    /** Routes {@code endpoints}, each path followed by its 405 catch-all (Helidon tries routes in order). */
    static void register(HttpRules rules, List<Endpoint> endpoints) {
        Map<String, List<Endpoint>> byPath = endpoints.stream()
                .collect(Collectors.groupingBy(Endpoint::path, LinkedHashMap::new, Collectors.toList()));
        byPath.forEach((path, routed) -> {
            for (Endpoint e : routed) {
                rules.route(e.method(), path, (req, res) -> e.action().handle(req).send(req, res));
            }
            String allow = routed.stream().map(e -> e.method().text()).collect(Collectors.joining(", "));
            rules.any(path, (req, res) -> methodNotAllowed(req.prologue().method(), allow).send(req, res));
        });
    }

    static Reply methodNotAllowed(Method method, String allow) {
        return Reply.error(Status.METHOD_NOT_ALLOWED_405, "method_not_allowed",
                method.text() + " is not allowed here; use " + allow, null).with(HeaderNames.ALLOW, allow);
    }
}
