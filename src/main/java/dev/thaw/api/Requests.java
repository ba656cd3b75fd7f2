package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.platform.ThawException;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Reading a request: its query, its body within the size limit, its JSON.
 *
 * <p>The query is parsed by our own rules rather than Helidon's, because they are the API's
 * contract: form decoding ({@code +} is a space), a bare key is {@code ""}, and the last of
 * repeated keys wins. The body limit is checked against {@code Content-Length} before anything is
 * read, and by reading at most one byte past it otherwise (chunked bodies). A refused body that
 * is short is still drained so that the client reads its 413 on a connection that stays open;
 * a long one is not read at all, and the answer closes the connection.
 */
final class Requests {
    /**
     * Unread body left after a 413 that is still drained to keep the connection; past this the
     * connection is closed instead of reading what the server refused.
     */
    static final long DRAIN_LIMIT = 1 << 20;

    private final long maxBodyBytes;

    Requests(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /** The body, at most {@code maxBodyBytes} of it; a 413 for more. */
    byte[] body(ServerRequest req) throws IOException {
        OptionalLong length = req.headers().contentLength();
        if (length.isPresent() && length.getAsLong() > maxBodyBytes) {
            throw tooLarge(length.getAsLong() > DRAIN_LIMIT); // Helidon drains an unread body on a kept connection
        }
        if (!req.content().hasEntity()) return new byte[0];
        // Not closed here: closing would read the whole rest of a refused body, however long.
        InputStream in = req.content().inputStream();
        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
        if (b.length > maxBodyBytes) throw tooLarge(!drained(in)); // only a chunked body gets here
        return b;
    }

    /** Reads and drops the rest of a refused body if it is short; false when there is more than {@link #DRAIN_LIMIT}. */
    private static boolean drained(InputStream in) throws IOException {
        byte[] sink = new byte[8192];
        long total = 0;
        for (int n; (n = in.read(sink)) != -1; ) {
            total += n;
            if (total > DRAIN_LIMIT) return false;
        }
        return true;
    }

    /** An event body: JSON, and an empty body is {@code {}}. */
    JsonNode event(ServerRequest req) throws IOException {
        byte[] body = body(req);
        if (body.length == 0) return Json.object();
        return parseJson(body);
    }

    static JsonNode parseJson(byte[] body) {
        try {
            return Json.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new ThawException(ThawException.Kind.INVALID, "bad_json", "request body is not valid JSON: " + e.getMessage());
        }
    }

    private ApiError tooLarge(boolean closeConnection) {
        return new ApiError(Status.REQUEST_ENTITY_TOO_LARGE_413, "body_too_large",
                "request body is larger than the limit of " + maxBodyBytes + " bytes",
                closeConnection ? Map.of(HeaderNames.CONNECTION, HeaderValues.CONNECTION_CLOSE.get()) : Map.of());
    }

    static Map<String, String> query(ServerRequest req) {
        return query(req.query().rawValue());
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

    /** A path parameter of the matched route (decoded). */
    static String param(ServerRequest req, String name) {
        return req.path().pathParameters().get(name);
    }
}
