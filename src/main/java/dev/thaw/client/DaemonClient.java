package dev.thaw.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.AuthToken;
import dev.thaw.common.Json;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The one client of the daemon's HTTP API, used by the CLI ({@code invoke}, {@code app deploy},
 * {@code demo}), the benchmarks and {@code flow}.
 *
 * <p>It sits on the JDK's {@link HttpClient}, so it costs no dependency, and it knows nothing of
 * the platform or server classes: answers are the daemon's JSON as {@link JsonNode}s, so the
 * client can be used from anything that has a daemon URL. Every request has an explicit deadline
 * from {@link Timeouts} — an invocation may rightly wait minutes for a restore, a health check
 * should not — and HTTP/1.1 is asked for outright, since the daemon's JDK server does not speak
 * HTTP/2 and an h2c upgrade attempt only adds headers to every request.
 *
 * <p>Failures come in two kinds, so a caller can tell "the daemon said no" from "nothing
 * answered": a {@link DaemonException} carries the status and the daemon's error code and message,
 * a {@link DaemonUnreachableException} the transport failure. Nothing is retried here; a 429's
 * {@code Retry-After} goes to the caller in the exception, because only the caller knows whether
 * waiting is right (a benchmark must not fold admission delays into a latency).
 */
public final class DaemonClient implements AutoCloseable {
    /**
     * The deadlines: {@code connect} to open a connection, {@code request} for a plain API call,
     * {@code invoke} for an invocation (it may wait for a restore and the handler),
     * {@code deploy} for a deploy (it boots a VM, warms the function up and snapshots it).
     */
    public record Timeouts(Duration connect, Duration request, Duration invoke, Duration deploy) {
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(60),
                Duration.ofMinutes(10), Duration.ofMinutes(5));

        public Timeouts {
            for (Duration d : new Duration[]{connect, request, invoke, deploy}) {
                if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive, got " + d);
            }
        }
    }

    private final String base;
    private final Timeouts timeouts;
    private final HttpClient http;
    private final AuthToken token;

    /** A client of the daemon at {@code baseUrl}, with the API token {@code $THAW_AUTH_TOKEN_FILE} names, if any. */
    public DaemonClient(String baseUrl) {
        this(baseUrl, Timeouts.DEFAULT);
    }

    /** A client of the daemon at {@code baseUrl} ({@code http://host:port}, optionally with a path prefix). */
    public DaemonClient(String baseUrl, Timeouts timeouts) {
        this(baseUrl, timeouts, AuthToken.fromEnvironment().orElse(null));
    }

    /** @param token sent as {@code Authorization: Bearer …} with every request; null for none */
    public DaemonClient(String baseUrl, Timeouts timeouts, AuthToken token) {
        this.token = token;
        this.base = checkedBase(baseUrl);
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeouts.connect()).build();
    }

    private static String checkedBase(String url) {
        String trimmed = Objects.requireNonNull(url, "daemon URL").strip().replaceAll("/+$", "");
        URI uri;
        try {
            uri = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad daemon URL " + url + ": " + e.getMessage(), e);
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new IllegalArgumentException("bad daemon URL " + url + ": expected http://host:port");
        }
        return trimmed;
    }

    /** The daemon's URL, without a trailing slash. */
    public String url() {
        return base;
    }

    public Timeouts timeouts() {
        return timeouts;
    }

    /** {@code GET /healthz}. */
    public JsonNode health() {
        return get("/healthz");
    }

    /** {@code GET /functions/{name}}, or empty when no such function is deployed (404). */
    public Optional<JsonNode> function(String name) {
        return orEmptyIfNotFound(() -> get("/functions/" + segment(name)));
    }

    /** {@code PUT /functions/{name}} from a function directory the daemon can read (it runs on this host). */
    public JsonNode deploy(String name, Path dir) {
        String body = Json.write(Json.object().put("path", dir.toAbsolutePath().toString()));
        return json(request("/functions/" + segment(name), timeouts.deploy())
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** {@code POST /functions/{name}/invoke?mode=…} with the event as body; a null mode leaves the choice to the daemon. */
    public JsonNode invoke(String name, String mode, JsonNode event) {
        String query = mode == null ? "" : "?mode=" + URLEncoder.encode(mode, StandardCharsets.UTF_8);
        return json(request("/functions/" + segment(name) + "/invoke" + query, timeouts.invoke())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Json.write(event))));
    }

    /**
     * {@code POST /functions/{name}/cache/drop}: stops the function's idle instances and drops its
     * snapshot files from the page cache; the paths dropped, or empty when the daemon has no such
     * endpoint (404, an older daemon).
     */
    public Optional<List<String>> dropCache(String name) {
        return orEmptyIfNotFound(() -> {
            List<String> dropped = new ArrayList<>();
            post("/functions/" + segment(name) + "/cache/drop").path("dropped").forEach(p -> dropped.add(p.asText()));
            return dropped;
        });
    }

    /** {@code GET /snapshots}: the {@code snapshots} array. */
    public JsonNode snapshots() {
        return get("/snapshots").path("snapshots");
    }

    /** {@code GET /instances}: the {@code instances} array. */
    public JsonNode instances() {
        return get("/instances").path("instances");
    }

    /** {@code DELETE /instances/{id}}; false when it was already gone (404: idle instances time out on their own). */
    public boolean stopInstance(String id) {
        return orEmptyIfNotFound(() -> delete("/instances/" + segment(id))).isPresent();
    }

    /**
     * {@code GET /traces?limit=N[&function=F][&since=S]}: recent traces as the daemon's Jaeger JSON
     * text, for a trace reader to parse; {@code function} and {@code since} may be null.
     */
    public String traces(int limit, String function, String since) {
        StringBuilder path = new StringBuilder("/traces?limit=").append(limit);
        if (function != null) path.append("&function=").append(URLEncoder.encode(function, StandardCharsets.UTF_8));
        if (since != null) path.append("&since=").append(URLEncoder.encode(since, StandardCharsets.UTF_8));
        return text(request(path.toString(), timeouts.request()).GET());
    }

    /** {@code GET} a path (with its query) of the API. */
    public JsonNode get(String path) {
        return json(request(path, timeouts.request()).GET());
    }

    /** {@code POST} to a path of the API, without a body. */
    public JsonNode post(String path) {
        return json(request(path, timeouts.request()).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** {@code DELETE} a path of the API. */
    public JsonNode delete(String path) {
        return json(request(path, timeouts.request()).DELETE());
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        if (!path.startsWith("/")) throw new IllegalArgumentException("API path must start with '/': " + path);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).header("Accept", "application/json");
        return token == null ? b : b.header("Authorization", token.bearer());
    }

    /** A path segment: names are plain already, but an id from elsewhere must not be able to change the route. */
    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static <T> Optional<T> orEmptyIfNotFound(java.util.function.Supplier<T> call) {
        try {
            return Optional.of(call.get());
        } catch (DaemonException e) {
            if (e.status() == 404) return Optional.empty();
            throw e;
        }
    }

    /** A 2xx answer's JSON (an empty object for an empty body); an answer that is not JSON is an IllegalStateException. */
    private JsonNode json(HttpRequest.Builder builder) {
        HttpRequest req = builder.build();
        String text = text(req);
        if (text.isBlank()) return Json.object();
        try {
            return Json.parse(text);
        } catch (IllegalArgumentException e) {
            // The daemon always answers JSON; anything else is a proxy or a wrong URL, worth saying so.
            throw new IllegalStateException(describe(req) + ": the answer is not JSON (" + e.getMessage() + ")", e);
        }
    }

    private String text(HttpRequest.Builder builder) {
        return text(builder.build());
    }

    /** Sends the request; a 2xx answer's body, else a {@link DaemonException}. */
    private String text(HttpRequest req) {
        HttpResponse<String> r = send(req);
        String body = r.body() == null ? "" : r.body();
        if (r.statusCode() / 100 == 2) return body;
        throw DaemonException.decode(describe(req), r.statusCode(), body,
                r.headers().firstValue("Retry-After").orElse(null), Instant.now());
    }

    private HttpResponse<String> send(HttpRequest req) {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException e) {
            throw new DaemonUnreachableException("cannot reach the daemon at " + base + ": no connection within "
                    + seconds(timeouts.connect()), e, true);
        } catch (HttpTimeoutException e) {
            throw new DaemonUnreachableException("the daemon at " + base + " did not answer " + describe(req) + " within "
                    + seconds(req.timeout().orElseThrow()), e, true);
        } catch (ConnectException e) {
            throw new DaemonUnreachableException("cannot reach the daemon at " + base + ": connection refused", e, false);
        } catch (IOException e) {
            throw new DaemonUnreachableException("cannot reach the daemon at " + base + ": " + describe(req) + " failed (" + e + ")", e, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException cause = new InterruptedIOException("interrupted");
            cause.initCause(e);
            throw new DaemonUnreachableException("interrupted while waiting for the daemon at " + base + " to answer " + describe(req), cause, false);
        }
    }

    private static String describe(HttpRequest req) {
        return req.method() + " " + req.uri();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** Closes the underlying HTTP client, waiting for requests in flight. */
    @Override
    public void close() {
        http.close();
    }
}
