package dev.thaw.api;

import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceWriter;
import dev.thaw.platform.Platform;
import dev.thaw.platform.ThawException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Recent traces as Jaeger JSON, or Zipkin v2 with {@code ?format=zipkin}: all of them filtered, or one. */
final class TracesService implements ApiService {
    private final Platform platform;
    private final List<Endpoint> endpoints;

    TracesService(Platform platform) {
        this.platform = platform;
        this.endpoints = List.of(
                Endpoint.get("/traces", this::query),
                Endpoint.get("/traces/{traceId}", this::one));
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    private Reply query(ServerRequest req) {
        Map<String, String> query = Requests.query(req);
        boolean zipkin = zipkin(query);
        List<Trace> traces = platform.tracing().store().query(query.get("function"), sinceMicros(query.get("since")),
                intParam(query, "limit", 100));
        return write(traces, zipkin);
    }

    private Reply one(ServerRequest req) {
        boolean zipkin = zipkin(Requests.query(req));
        String id = Requests.param(req, "traceId");
        Trace t = platform.tracing().store().get(id);
        if (t == null) throw ThawException.notFound("no trace " + id + " (unknown, or no longer kept)");
        return write(List.of(t), zipkin);
    }

    private static Reply write(List<Trace> traces, boolean zipkin) {
        return Reply.json(Status.OK_200, zipkin ? TraceWriter.zipkin(traces) : TraceWriter.jaeger(traces));
    }

    private static boolean zipkin(Map<String, String> query) {
        boolean zipkin = "zipkin".equals(query.get("format"));
        if (query.containsKey("format") && !zipkin && !"jaeger".equals(query.get("format"))) {
            throw ThawException.badRequest("format must be jaeger or zipkin, got " + query.get("format"));
        }
        return zipkin;
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
}
