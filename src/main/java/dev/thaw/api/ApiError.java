package dev.thaw.api;

import io.helidon.http.HeaderName;
import io.helidon.http.Status;

import java.util.Map;

/**
 * A failure only the HTTP layer knows (a body too large): its status, code, message and any
 * headers the answer must carry.
 */
final class ApiError extends RuntimeException {
    private final Status status;
    private final String code;
    private final Map<HeaderName, String> headers;

    ApiError(Status status, String code, String message, Map<HeaderName, String> headers) {
        super(message);
        this.status = status;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    Status status() {
        return status;
    }

    String code() {
        return code;
    }

    Map<HeaderName, String> headers() {
        return headers;
    }
}
