package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thaw.common.Json;
import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceWriter;
import dev.thaw.platform.Call;
import dev.thaw.platform.FunctionBundle;
import dev.thaw.platform.InvocationResult;
import dev.thaw.model.Mode;
import dev.thaw.platform.Platform;
import dev.thaw.platform.ThawException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * thaw's HTTP API: a thin layer that parses requests, calls the {@link Platform} and writes JSON.
 *
 * <p>Built on the JDK's HTTP server with one virtual thread per request, so a request that waits
 * for a VM restore costs a few KiB, not a platform thread. Every failure is answered with a
 * status code and {@code {"error": {"code", "message", …}}}; nothing a client sends can take the
 * server down.
 */
public final class ApiServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ApiServer.class.getName());

    private final Platform platform;
    private final long maxBodyBytes;
    private final HttpServer server;

    public ApiServer(Platform platform, InetSocketAddress address, long maxBodyBytes) {
        this.platform = platform;
        this.maxBodyBytes = maxBodyBytes;
        try {
            this.server = HttpServer.create(address, 1024);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
    }

    public ApiServer start() {
        server.start();
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://" + server.getAddress().getHostString() + ":" + port();
    }

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                Response r = route(ex);
                send(ex, r.status(), r.body(), r.contentType());
            } catch (ThawException e) {
                sendError(ex, ErrorStatus.of(e.kind()), e.code(), e.getMessage(), e.details());
            } catch (ApiError e) {
                sendError(ex, e.status(), e.code(), e.getMessage(), null);
            } catch (IllegalArgumentException e) {
                sendError(ex, 400, "bad_request", e.getMessage(), null);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, ex.getRequestMethod() + " " + ex.getRequestURI() + " failed", e);
                sendError(ex, 500, "internal", e.toString(), null);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "client went away: " + e.getMessage());
        }
    }

    record Response(int status, byte[] body, String contentType) {
        static Response json(int status, Object value) {
            return new Response(status, Json.write(value).getBytes(StandardCharsets.UTF_8), "application/json");
        }
    }

    private Response route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String[] parts = ex.getRequestURI().getPath().replaceAll("^/+|/+$", "").split("/");
        Map<String, String> query = query(ex.getRequestURI().getRawQuery());
        String p0 = parts[0], p1 = parts.length > 1 ? parts[1] : null, p2 = parts.length > 2 ? parts[2] : null;
        int n = p0.isEmpty() ? 0 : parts.length;

        switch (p0) {
            case "healthz" -> {
                if (n == 1 && method.equals("GET")) {
                    return Response.json(200, Json.object().put("status", "ok").put("accel", platform.accel().name().toLowerCase())
                            .put("image", platform.image().key()).put("vmm_thp_advice", platform.hugePageAdvice().id())
                            .put("snapshots_verified", platform.snapshotsVerified()));
                }
            }
            case "metrics" -> {
                if (n == 1 && method.equals("GET")) {
                    return new Response(200, platform.metrics().render().getBytes(StandardCharsets.UTF_8), "text/plain; version=0.0.4");
                }
            }
            case "functions" -> {
                if (n == 1 && method.equals("GET")) return Response.json(200, Map.of("functions", platform.functions()));
                if (n == 2) {
                    switch (method) {
                        case "GET" -> { return Response.json(200, platform.function(p1)); }
                        case "PUT" -> { return Response.json(201, platform.deploy(bundle(ex, p1))); }
                        case "DELETE" -> {
                            platform.undeploy(p1);
                            return Response.json(200, Json.object().put("deleted", p1));
                        }
                        default -> throw methodNotAllowed(method, "GET, PUT, DELETE");
                    }
                }
                if (n == 4 && "cache".equals(p2) && "drop".equals(parts[3])) {
                    if (!method.equals("POST")) throw methodNotAllowed(method, "POST");
                    var dropped = Json.MAPPER.createArrayNode();
                    platform.dropPageCache(p1).forEach(f -> dropped.add(f.toString()));
                    ObjectNode out = Json.object();
                    out.set("dropped", dropped);
                    return Response.json(200, out);
                }
                if (n == 3 && "invoke".equals(p2)) {
                    if (!method.equals("POST")) throw methodNotAllowed(method, "POST");
                    Mode mode;
                    try {
                        mode = Mode.parse(query.get("mode"));
                    } catch (IllegalArgumentException e) {
                        ThawException bad = new ThawException(ThawException.Kind.INVALID, "bad_mode", e.getMessage());
                        platform.countError(p1, bad);
                        throw bad;
                    }
                    JsonNode event = eventBody(ex);
                    Call call = Call.external(ex.getRequestHeaders().getFirst("traceparent"));
                    if ("true".equals(query.get("async"))) return Response.json(202, platform.invokeAsync(p1, event, mode, call));
                    InvocationResult result = platform.invoke(p1, event, mode, call);
                    ex.getResponseHeaders().set("traceparent", result.traceparent());
                    return Response.json(200, result);
                }
                if (n == 3 && "prewarm".equals(p2)) {
                    if (!method.equals("POST")) throw methodNotAllowed(method, "POST");
                    int count;
                    try {
                        count = Integer.parseInt(query.getOrDefault("count", "1"));
                    } catch (NumberFormatException e) {
                        throw ThawException.badRequest("count must be a whole number, got " + query.get("count"));
                    }
                    var ids = Json.MAPPER.createArrayNode();
                    platform.prewarm(p1, count).forEach(ids::add);
                    ObjectNode out = Json.object().put("function", p1);
                    out.set("instances", ids);
                    return Response.json(200, out);
                }
            }
            case "traces" -> {
                if (!method.equals("GET")) throw methodNotAllowed(method, "GET");
                boolean zipkin = "zipkin".equals(query.get("format"));
                if (query.containsKey("format") && !zipkin && !"jaeger".equals(query.get("format"))) {
                    throw ThawException.badRequest("format must be jaeger or zipkin, got " + query.get("format"));
                }
                List<Trace> traces;
                if (n == 2) {
                    Trace t = platform.tracing().store().get(p1);
                    if (t == null) throw ThawException.notFound("no trace " + p1 + " (unknown, or no longer kept)");
                    traces = List.of(t);
                } else if (n == 1) {
                    traces = platform.tracing().store().query(query.get("function"), sinceMicros(query.get("since")),
                            intParam(query, "limit", 100));
                } else {
                    break;
                }
                return Response.json(200, zipkin ? TraceWriter.zipkin(traces) : TraceWriter.jaeger(traces));
            }
            case "invocations" -> {
                if (n == 2 && method.equals("GET")) {
                    var status = platform.invocation(p1);
                    ObjectNode o = Json.MAPPER.valueToTree(status);
                    if (status.errorKind() != null) o.put("status", ErrorStatus.of(status.errorKind()));
                    else if (status.response() != null) o.put("status", 200);
                    return Response.json(200, o);
                }
            }
            case "instances" -> {
                if (n == 1 && method.equals("GET")) return Response.json(200, Map.of("instances", platform.instances()));
                if (n == 2 && method.equals("DELETE")) {
                    platform.stopInstance(p1);
                    return Response.json(200, Json.object().put("stopped", p1));
                }
            }
            case "snapshots" -> {
                if (n == 1 && method.equals("GET")) return Response.json(200, Map.of("snapshots", platform.snapshots()));
            }
            default -> { }
        }
        throw ThawException.notFound("no route for " + method + " " + ex.getRequestURI().getPath());
    }

    private static int intParam(Map<String, String> query, String name, int fallback) {
        String v = query.get(name);
        if (v == null) return fallback;
        try {
            int i = Integer.parseInt(v);
            if (i < 1) throw new NumberFormatException();
            return i;
        } catch (NumberFormatException e) {
            throw ThawException.badRequest(name + " must be a positive whole number, got " + v);
        }
    }

    /** {@code since}: epoch microseconds, an ISO-8601 instant, or an age such as 30s, 10m, 2h. */
    static long sinceMicros(String since) {
        if (since == null || since.isBlank()) return 0;
        try {
            if (since.matches("\\d+")) return Long.parseLong(since);
            if (since.matches("\\d+[smhd]")) {
                long n = Long.parseLong(since.substring(0, since.length() - 1));
                long seconds = switch (since.charAt(since.length() - 1)) {
                    case 's' -> n;
                    case 'm' -> n * 60;
                    case 'h' -> n * 3600;
                    default -> n * 86400;
                };
                return (System.currentTimeMillis() / 1000 - seconds) * 1_000_000;
            }
            Instant t = Instant.parse(since);
            return t.getEpochSecond() * 1_000_000 + t.getNano() / 1000;
        } catch (RuntimeException e) {
            throw ThawException.badRequest("since must be epoch microseconds, an ISO-8601 instant or an age like 10m, got " + since);
        }
    }

    private static ApiError methodNotAllowed(String method, String allowed) {
        return new ApiError(405, "method_not_allowed", method + " is not allowed here; use " + allowed);
    }

    /** A deploy body: a tar of the function directory, or JSON {"path": "/dir/on/the/daemon/host"}. */
    private FunctionBundle bundle(HttpExchange ex, String name) throws IOException {
        byte[] body = body(ex);
        String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
        FunctionBundle b;
        if (type.startsWith("application/x-tar") || type.startsWith("application/octet-stream")) {
            b = FunctionBundle.fromTar(body);
        } else {
            JsonNode req = parseJson(body);
            String path = req.path("path").asText(null);
            if (path == null) throw ThawException.badRequest("deploy body must be a tar (Content-Type: application/x-tar) or JSON {\"path\": \"/function/dir\"}");
            b = FunctionBundle.fromDirectory(Path.of(path));
        }
        if (!b.spec().name().equals(name)) {
            throw ThawException.badRequest("URL names function \"" + name + "\" but its function.json says \"" + b.spec().name() + "\"");
        }
        return b;
    }

    private JsonNode eventBody(HttpExchange ex) throws IOException {
        byte[] body = body(ex);
        if (body.length == 0) return Json.object();
        return parseJson(body);
    }

    private static JsonNode parseJson(byte[] body) {
        try {
            return Json.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new ThawException(ThawException.Kind.INVALID, "bad_json", "request body is not valid JSON: " + e.getMessage());
        }
    }

    private byte[] body(HttpExchange ex) throws IOException {
        String len = ex.getRequestHeaders().getFirst("Content-Length");
        if (len != null && Long.parseLong(len.trim()) > maxBodyBytes) throw tooLarge();
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
            if (b.length > maxBodyBytes) throw tooLarge();
            return b;
        }
    }

    private ApiError tooLarge() {
        return new ApiError(413, "body_too_large", "request body is larger than the limit of " + maxBodyBytes + " bytes");
    }

    static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null || raw.isEmpty()) return q;
        for (String kv : raw.split("&")) {
            int i = kv.indexOf('=');
            String k = URLDecoder.decode(i < 0 ? kv : kv.substring(0, i), StandardCharsets.UTF_8);
            q.put(k, i < 0 ? "" : URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    private static void sendError(HttpExchange ex, int status, String code, String message, ObjectNode details) throws IOException {
        if (details != null && details.has("retry_after_s")) {
            ex.getResponseHeaders().set("Retry-After", details.get("retry_after_s").asText());
        }
        ObjectNode body = Json.object();
        ObjectNode err = body.putObject("error");
        err.put("code", code).put("message", message);
        if (details != null) err.setAll(details);
        send(ex, status, Json.write(body).getBytes(StandardCharsets.UTF_8), "application/json");
    }

    private static void send(HttpExchange ex, int status, byte[] body, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
