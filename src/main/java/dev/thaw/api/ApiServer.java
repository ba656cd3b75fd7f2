package dev.thaw.api;

import dev.thaw.common.AuthToken;
import dev.thaw.platform.Platform;
import dev.thaw.platform.ThawException;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * thaw's HTTP API: a thin layer that parses requests, calls the {@link Platform} and writes JSON.
 *
 * <p>Built on Helidon SE's web server, which runs each request on its own virtual thread, so a
 * request that waits for a VM restore costs a few KiB, not a platform thread. The routes are
 * declared per service ({@link FunctionsService}, {@link InvocationsService},
 * {@link InstancesService}, {@link TracesService}, {@link SystemService}) as tables of
 * {@link Endpoint}s; {@link #endpoints()} is the whole table, which {@code openapi.yaml} must
 * match. Routing order, top to bottom: a rewrite of non-canonical paths ({@code /healthz/}),
 * the services (each path with a 405 catch-all after its methods), and a JSON 404 for
 * everything else. Every failure is answered with a status and
 * {@code {"error": {"code", "message", …}}} (see {@link Failures}); nothing a client sends can
 * take the server down.
 */
public final class ApiServer implements AutoCloseable {
    /** Helidon's start-up chatter (features, bound sockets) would interleave with the CLI's output. */
    private static final Logger HELIDON_LOG = Logger.getLogger("io.helidon");

    static {
        HELIDON_LOG.setLevel(Level.WARNING);
    }

    private final InetSocketAddress address;
    private final List<ApiService> services;
    private final AuthToken token;
    private final WebServer server;

    public ApiServer(Platform platform, InetSocketAddress address, long maxBodyBytes) {
        this(platform, address, maxBodyBytes, null);
    }

    /** @param token when not null, every route but {@code GET /healthz} needs {@code Authorization: Bearer <token>} */
    public ApiServer(Platform platform, InetSocketAddress address, long maxBodyBytes, AuthToken token) {
        this(platform, address, maxBodyBytes, token, List.of());
    }

    /**
     * @param token         when not null, every route but {@code GET /healthz} needs {@code Authorization: Bearer <token>}
     * @param functionRoots the directories a deploy by path may read from; empty for any
     */
    public ApiServer(Platform platform, InetSocketAddress address, long maxBodyBytes, AuthToken token, List<Path> functionRoots) {
        this.address = address;
        this.token = token;
        this.services = List.of(
                new SystemService(platform),
                new FunctionsService(platform, new Requests(maxBodyBytes), realPaths(functionRoots)),
                new InvocationsService(platform),
                new InstancesService(platform),
                new TracesService(platform));
        this.server = WebServer.builder()
                .address(address.getAddress())
                .port(address.getPort())
                .backlog(1024)
                .shutdownHook(false) // the owner closes it (thaw serve has its own hook)
                .shutdownGracePeriod(Duration.ZERO) // close() stops at once, as it always did; VMs are the platform's to stop
                .errorHandling(e -> e.includeEntity(true)) // direct handlers get Helidon's message (its safe ones only)
                .directHandlers(d -> {
                    for (DirectHandler.EventType t : DirectHandler.EventType.values()) d.addHandler(t, Failures::transport);
                })
                .routing(this::routing)
                .build();
    }

    private void routing(HttpRouting.Builder routing) {
        routing.any(ApiServer::canonicalPath);
        if (token != null) routing.any(this::authenticate);
        services.forEach(routing::register);
        routing.any((req, res) -> {
            throw ThawException.notFound("no route for " + req.prologue().method().text() + " " + req.prologue().uriPath().path());
        });
        routing.error(Throwable.class, Failures::handle);
    }

    /**
     * Paths are matched without leading or trailing runs of slashes, as they always were here
     * ({@code /healthz/} is {@code /healthz}): such a request is rerouted once to its canonical path.
     */
    private static void canonicalPath(ServerRequest req, ServerResponse res) {
        String raw = req.prologue().uriPath().rawPath();
        if (raw.length() > 1 && (raw.endsWith("/") || raw.startsWith("//"))) {
            res.reroute("/" + raw.replaceAll("^/+|/+$", ""), req.query());
        } else {
            res.next();
        }
    }

    private static List<Path> realPaths(List<Path> roots) {
        return roots.stream().map(r -> {
            try {
                return r.toRealPath();
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("--functions-root " + r + " is not a readable directory: " + e.getMessage(), e);
            }
        }).toList();
    }

    /** Lets a request through with the right bearer token; {@code GET /healthz} needs none (liveness probes). */
    private void authenticate(ServerRequest req, ServerResponse res) {
        boolean health = req.prologue().method() == Method.GET && "/healthz".equals(req.prologue().uriPath().path());
        if (health || token.admits(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null))) {
            res.next();
            return;
        }
        throw new ApiError(Status.UNAUTHORIZED_401, "unauthorized",
                "this daemon needs an API token: send Authorization: Bearer <token> (clients read the file $"
                        + AuthToken.ENV + " names)", Map.of(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"thaw\""));
    }

    /** Every route of the API: the table {@code openapi.yaml} documents. */
    List<Endpoint> endpoints() {
        return services.stream().flatMap(s -> s.endpoints().stream()).toList();
    }

    /** Binds and serves; a failure to listen (port in use, no such address) is an exception here. */
    public ApiServer start() {
        try {
            server.start();
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        // Helidon logs a listener that failed to bind and returns; it does not throw.
        if (!server.isRunning()) {
            throw new IllegalStateException("cannot listen on " + address + " (in use, or not an address of this host;"
                    + " the web server logged why above)");
        }
        return this;
    }

    public int port() {
        return server.port();
    }

    public String url() {
        return "http://" + address.getHostString() + ":" + port();
    }

    @Override
    public void close() {
        server.stop();
    }
}
