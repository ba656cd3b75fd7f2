package dev.thaw.platform;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A failure a client should see: an HTTP status, a stable machine-readable code and a message
 * that says what was wrong. {@code details} carries extra fields (a guest traceback, the limit
 * that was hit) into the JSON error body.
 */
public final class ThawException extends RuntimeException {
    private final int status;
    private final String code;
    private final transient ObjectNode details;

    public ThawException(int status, String code, String message) {
        this(status, code, message, null, null);
    }

    public ThawException(int status, String code, String message, ObjectNode details, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.code = code;
        this.details = details;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public ObjectNode details() {
        return details;
    }

    public static ThawException notFound(String what) {
        return new ThawException(404, "not_found", what);
    }

    public static ThawException badRequest(String what) {
        return new ThawException(400, "bad_request", what);
    }
}
