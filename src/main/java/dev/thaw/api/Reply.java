package dev.thaw.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One answer of the API, built by a handler and written in one place ({@link #send}). Handlers
 * return values instead of writing to Helidon's response so that every answer, success or
 * error, gets the same Content-Type handling and the same HEAD rule, and so that bodies are
 * Jackson's bytes exactly (Helidon's media support is not used).
 */
record Reply(Status status, String contentType, byte[] body, Map<HeaderName, String> headers) {
    static final String JSON = "application/json";

    static Reply json(Status status, Object value) {
        return new Reply(status, JSON, Json.write(value).getBytes(StandardCharsets.UTF_8), Map.of());
    }

    static Reply bytes(Status status, String contentType, byte[] body) {
        return new Reply(status, contentType, body, Map.of());
    }

    /** {@code {"error": {"code", "message", …details}}}, the body of every failure. */
    static Reply error(Status status, String code, String message, ObjectNode details) {
        return json(status, errorBody(code, message, details));
    }

    static ObjectNode errorBody(String code, String message, ObjectNode details) {
        ObjectNode body = Json.object();
        ObjectNode err = body.putObject("error");
        err.put("code", code).put("message", message);
        if (details != null) err.setAll(details);
        return body;
    }

    /** This reply with one more header. */
    Reply with(HeaderName name, String value) {
        Map<HeaderName, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new Reply(status, contentType, body, more);
    }

    Reply with(Map<HeaderName, String> extra) {
        Reply r = this;
        for (var e : extra.entrySet()) r = r.with(e.getKey(), e.getValue());
        return r;
    }

    /** Writes this reply; an answer to HEAD has the headers only (HTTP forbids it a body). */
    void send(ServerRequest req, ServerResponse res) {
        res.status(status);
        headers.forEach((name, value) -> res.header(name, value));
        res.header(HeaderNames.CONTENT_TYPE, contentType);
        if (Method.HEAD.equals(req.prologue().method())) {
            res.send();
        } else {
            res.send(body);
        }
    }
}
