package dev.thaw.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.cluster.Etcd;
import dev.thaw.cluster.FunctionRecord;
import dev.thaw.cluster.NodeInfo;
import dev.thaw.common.AuthToken;
import dev.thaw.common.Json;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code thaw gateway}: one front door for a cluster of nodes, with the nodes' invoke, async and
 * traces API. It keeps no state of its own beyond a picture of etcd ({@link ClusterView}) and
 * its calls in flight, so any number of gateways can serve one cluster.
 *
 * <p>Invoke: the {@link RoutingPolicy} ranks the nodes; the gateway sends the call to the first.
 * A node that refuses before running anything (connection refused or timed out, a connection it
 * closed before taking the call's body, 429, 503, or 404 because its copy of the function has not
 * arrived yet) is passed over for the next; at most one node may fail by connection, so a dead
 * node costs one retry. A node that fails after it took the request (the connection drops
 * mid-call) may have run the function, so the call is never sent again: 502 {@code node_failed}.
 * {@link NodeCall} tells the two apart, also for a pooled connection the node closed just as it
 * was reused. 429 only when every candidate refused; 503 when no node
 * has the function.
 *
 * <p>Asynchronous invocations get an id {@code <node>.<id>} so {@code GET /invocations/{id}} on
 * any gateway finds the node. {@code traceparent} is passed to the node and its answer's back;
 * {@code GET /traces} merges every node's traces by trace id ({@link TraceMerge}).
 */
public final class Gateway implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Gateway.class.getName());

    static {
        java.util.logging.Logger.getLogger("io.helidon").setLevel(java.util.logging.Level.WARNING); // start-up chatter
    }

    private final ClusterView view;
    private final RoutingPolicy policy;
    private final String policyName;
    private final HttpClient http;
    private final Duration invokeTimeout;
    private final Map<String, AtomicInteger> inflight = new ConcurrentHashMap<>();
    private final WebServer server;
    private final AuthToken token;

    public Gateway(Etcd etcd, RoutingPolicy policy, String policyName, InetSocketAddress address, Duration invokeTimeout) {
        this(etcd, policy, policyName, address, invokeTimeout, null);
    }

    /**
     * @param token the cluster's API token, or null: when set, clients must send it (every route but
     *              {@code GET /healthz}, as on a node) and the gateway sends it to the nodes
     */
    public Gateway(Etcd etcd, RoutingPolicy policy, String policyName, InetSocketAddress address, Duration invokeTimeout,
                   AuthToken token) {
        this.token = token;
        this.view = new ClusterView(etcd);
        this.policy = policy;
        this.policyName = policyName;
        this.invokeTimeout = invokeTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();
        this.server = WebServer.builder().address(address.getAddress()).port(address.getPort()).shutdownHook(false)
                .shutdownGracePeriod(Duration.ZERO).routing(this::routing).build();
    }

    public Gateway start() {
        server.start();
        if (!server.isRunning()) throw new IllegalStateException("the gateway cannot listen on its address (in use?)");
        return this;
    }

    public int port() {
        return server.port();
    }

    private void routing(HttpRouting.Builder r) {
        if (token != null) {
            r.any((req, res) -> {
                boolean health = "/healthz".equals(req.path().path());
                if (health || token.admits(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null))) {
                    res.next();
                } else {
                    res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"thaw\"");
                    error(res, Status.UNAUTHORIZED_401, "unauthorized", "this gateway needs the cluster's API token: "
                            + "send Authorization: Bearer <token>");
                }
            });
        }
        r.post("/functions/{name}/invoke", this::invoke)
                .get("/invocations/{id}", this::invocation)
                .get("/functions", (req, res) -> json(res, Status.OK_200, Map.of("functions", view.functions())))
                .get("/functions/{name}", this::function)
                .put("/functions/{name}", this::deploy)
                .delete("/functions/{name}", this::undeploy)
                .get("/nodes", (req, res) -> json(res, Status.OK_200, Map.of("nodes", view.nodes())))
                .get("/traces", (req, res) -> traces(req, res, "/traces"))
                .get("/traces/{id}", (req, res) -> traces(req, res, "/traces/" + req.path().pathParameters().get("id")))
                .get("/healthz", (req, res) -> json(res, Status.OK_200, Map.of("status", "ok", "role", "gateway",
                        "policy", policyName, "nodes", view.nodes().size())))
                .any((req, res) -> error(res, Status.NOT_FOUND_404, "not_found", "no route for "
                        + req.prologue().method().text() + " " + req.path().path()))
                .error(Throwable.class, (req, res, t) -> {
                    LOG.log(System.Logger.Level.WARNING, "gateway: " + t, t);
                    error(res, Status.INTERNAL_SERVER_ERROR_500, "internal", String.valueOf(t.getMessage()));
                });
    }

    private void invoke(ServerRequest req, ServerResponse res) throws IOException {
        String name = req.path().pathParameters().get("name");
        byte[] body = req.content().hasEntity() ? req.content().inputStream().readAllBytes() : new byte[0];
        FunctionRecord f = view.function(name);
        if (f == null) {
            error(res, Status.NOT_FOUND_404, "not_found", "no function named \"" + name + "\" is deployed in the cluster");
            return;
        }
        Map<String, Integer> mine = new java.util.HashMap<>();
        inflight.forEach((k, v) -> mine.put(k, v.get()));
        List<NodeInfo> candidates = policy.rank(name, f.memoryMib(), view.nodes(), mine);
        if (candidates.isEmpty()) {
            error(res, Status.SERVICE_UNAVAILABLE_503, "no_node", "no live node holds " + name + " yet");
            return;
        }
        String query = req.query().rawValue();
        String traceparent = req.headers().first(HeaderNames.create("traceparent")).orElse(null);
        int connectFailures = 0;
        List<String> refused = new ArrayList<>();
        tries:
        for (NodeInfo n : candidates) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(n.url() + "/functions/" + name + "/invoke"
                    + (query.isEmpty() ? "" : "?" + query))).timeout(invokeTimeout).header("Content-Type", "application/json");
            if (traceparent != null) b.header("traceparent", traceparent);
            AtomicInteger count = inflight.computeIfAbsent(n.name(), k -> new AtomicInteger());
            count.incrementAndGet();
            NodeCall.Outcome outcome;
            try {
                outcome = NodeCall.send(http, signed(b), body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                error(res, Status.SERVICE_UNAVAILABLE_503, "interrupted", "the gateway is stopping");
                return;
            } finally {
                count.decrementAndGet();
            }
            HttpResponse<byte[]> r;
            switch (outcome) {
                case NodeCall.Outcome.Answered a -> r = a.response();
                case NodeCall.Outcome.NotTaken t -> {
                    // The node never had the call: safe to send elsewhere, once.
                    refused.add(n.name() + ": " + t.reason());
                    if (++connectFailures > 1) break tries;
                    continue;
                }
                case NodeCall.Outcome.Failed failed -> {
                    error(res, Status.BAD_GATEWAY_502, "node_failed", "node " + n.name() + " failed during the call ("
                            + failed.error().getMessage() + "); not retried, since the function may have run");
                    return;
                }
            }
            int s = r.statusCode();
            if (s == 429 || s == 503 || s == 404 && refusedAsMissing(r)) { // refused before running anything
                refused.add(n.name() + ": " + s);
                continue;
            }
            res.header(HeaderNames.create("X-Thaw-Node"), n.name());
            r.headers().firstValue("traceparent").ifPresent(v -> res.header(HeaderNames.create("traceparent"), v));
            r.headers().firstValue("retry-after").ifPresent(v -> res.header(HeaderNames.RETRY_AFTER, v));
            byte[] out = r.body();
            if (s == 202) out = rewriteInvocationId(out, n.name());
            res.status(Status.create(s)).header(HeaderNames.CONTENT_TYPE, "application/json").send(out);
            return;
        }
        if (connectFailures > 1) {
            error(res, Status.BAD_GATEWAY_502, "node_failed", "two nodes could not be reached: " + refused);
        } else {
            res.header(HeaderNames.RETRY_AFTER, "1");
            error(res, Status.TOO_MANY_REQUESTS_429, "limit_exceeded", "every node refused the call: " + refused);
        }
    }

    /** A node's 404 for a function it has not fetched yet (not a 404 the function itself produced). */
    private static boolean refusedAsMissing(HttpResponse<byte[]> r) {
        return new String(r.body()).contains("\"not_found\"");
    }

    private static byte[] rewriteInvocationId(byte[] body, String node) {
        try {
            ObjectNode o = (ObjectNode) Json.MAPPER.readTree(body);
            if (o.hasNonNull("invocation_id")) o.put("invocation_id", node + "." + o.get("invocation_id").asText());
            return Json.MAPPER.writeValueAsBytes(o);
        } catch (IOException | ClassCastException e) {
            return body;
        }
    }

    private void invocation(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        int dot = id.indexOf('.');
        NodeInfo n = dot < 0 ? null : view.node(id.substring(0, dot));
        if (n == null) {
            error(res, Status.NOT_FOUND_404, "not_found", "no invocation " + id + " (its node is gone, or the id is not a gateway's)");
            return;
        }
        forward(res, HttpRequest.newBuilder(URI.create(n.url() + "/invocations/" + id.substring(dot + 1))).GET(), n.name());
    }

    private void function(ServerRequest req, ServerResponse res) {
        FunctionRecord f = view.function(req.path().pathParameters().get("name"));
        if (f == null) error(res, Status.NOT_FOUND_404, "not_found", "no function named \"" + req.path().pathParameters().get("name") + "\"");
        else json(res, Status.OK_200, f);
    }

    /** A deploy goes to one node with room (least loaded); that node announces it to the others. */
    private void deploy(ServerRequest req, ServerResponse res) throws IOException {
        String name = req.path().pathParameters().get("name");
        byte[] body = req.content().hasEntity() ? req.content().inputStream().readAllBytes() : new byte[0];
        List<NodeInfo> nodes = RoutingPolicy.parse("least-loaded", null).rank(name, 0,
                view.nodes().stream().map(n -> n.load(name) != null ? n : withFunction(n, name)).toList(), Map.of());
        if (nodes.isEmpty()) {
            error(res, Status.SERVICE_UNAVAILABLE_503, "no_node", "no node has joined the cluster");
            return;
        }
        NodeInfo n = nodes.getFirst();
        forward(res, HttpRequest.newBuilder(URI.create(n.url() + "/functions/" + name)).timeout(Duration.ofMinutes(10))
                .header("Content-Type", req.headers().contentType().map(Object::toString).orElse("application/json"))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)), n.name());
    }

    private static NodeInfo withFunction(NodeInfo n, String name) {
        Map<String, NodeInfo.Load> f = new java.util.HashMap<>(n.functions());
        f.put(name, new NodeInfo.Load(0, 0, 0, null, 0));
        return new NodeInfo(n.name(), n.url(), n.cores(), n.memoryBudgetMib(), n.maxInstances(), n.accel(), n.imageKey(),
                n.instances(), n.memoryUsedMib(), f);
    }

    /** Undeploy: the registry entry goes; every node removes its copy on its next reconcile. */
    private void undeploy(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        if (view.function(name) == null) {
            error(res, Status.NOT_FOUND_404, "not_found", "no function named \"" + name + "\" is deployed in the cluster");
            return;
        }
        view.etcd().delete(Etcd.FUNCTIONS + name);
        res.status(Status.NO_CONTENT_204).send();
    }

    private void traces(ServerRequest req, ServerResponse res, String path) {
        String query = req.query().rawValue();
        List<byte[]> bodies = new ArrayList<>();
        for (NodeInfo n : view.nodes()) {
            try {
                HttpResponse<byte[]> r = http.send(signed(HttpRequest.newBuilder(URI.create(n.url() + path + (query.isEmpty() ? "" : "?" + query)))
                        .timeout(Duration.ofSeconds(10)).GET()).build(), HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() == 200) bodies.add(r.body());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "traces from " + n.name() + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (bodies.isEmpty() && path.startsWith("/traces/")) {
            error(res, Status.NOT_FOUND_404, "not_found", "no node has trace " + path.substring("/traces/".length()));
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(TraceMerge.merge(bodies));
    }

    private void forward(ServerResponse res, HttpRequest.Builder b, String node) {
        try {
            HttpResponse<byte[]> r = http.send(signed(b).build(), HttpResponse.BodyHandlers.ofByteArray());
            res.header(HeaderNames.create("X-Thaw-Node"), node);
            res.status(Status.create(r.statusCode())).header(HeaderNames.CONTENT_TYPE, "application/json").send(r.body());
        } catch (IOException e) {
            error(res, Status.BAD_GATEWAY_502, "node_failed", "node " + node + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error(res, Status.SERVICE_UNAVAILABLE_503, "interrupted", "the gateway is stopping");
        }
    }

    private HttpRequest.Builder signed(HttpRequest.Builder b) {
        if (token != null) b.header("Authorization", token.bearer());
        return b;
    }

    private static void json(ServerResponse res, Status s, Object value) {
        res.status(s).header(HeaderNames.CONTENT_TYPE, "application/json").send(Json.write(value).getBytes());
    }

    private static void error(ServerResponse res, Status s, String code, String message) {
        json(res, s, Map.of("error", Map.of("code", code, "message", message)));
    }

    @Override
    public void close() {
        server.stop();
        view.close();
    }
}
