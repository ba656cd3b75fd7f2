package dev.thaw.flow;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Fetches recent traces from thaw's daemon: {@code GET {url}/traces?limit=N[&function=F][&since=S]}, Jaeger JSON. */
public final class DaemonClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private DaemonClient() {}

    /** The request URI for the given query; {@code function} and {@code since} may be null. */
    public static URI tracesUri(URI daemon, int limit, String function, String since) {
        String base = daemon.toString();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        StringBuilder uri = new StringBuilder(base).append("/traces?limit=").append(limit);
        if (function != null) {
            uri.append("&function=").append(URLEncoder.encode(function, StandardCharsets.UTF_8));
        }
        if (since != null) {
            uri.append("&since=").append(URLEncoder.encode(since, StandardCharsets.UTF_8));
        }
        return URI.create(uri.toString());
    }

    /** The traces the daemon returns; an IOException's message says what went wrong with which URL. */
    public static TraceReader.Result fetch(URI daemon, int limit, String function, String since) throws IOException {
        URI uri = tracesUri(daemon, limit, function, since);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/json").GET().build();
        HttpResponse<String> response;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build()) {
            response = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            throw new IOException("cannot reach the daemon at " + daemon + ": connection refused", e);
        } catch (HttpTimeoutException e) {
            throw new IOException(uri + ": no answer within " + REQUEST_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(uri + ": interrupted", e);
        } catch (IllegalArgumentException e) {
            throw new IOException("bad daemon URL " + daemon + ": " + e.getMessage(), e);
        }
        if (response.statusCode() != 200) {
            String body = response.body() == null ? "" : response.body().strip();
            if (body.length() > 300) {
                body = body.substring(0, 300) + "…";
            }
            throw new IOException(uri + ": HTTP " + response.statusCode() + (body.isEmpty() ? "" : ": " + body));
        }
        return TraceReader.parse(uri.toString(), response.body());
    }
}
