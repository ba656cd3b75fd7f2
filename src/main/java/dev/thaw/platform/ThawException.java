package dev.thaw.platform;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

/**
 * A failure a client should see: what kind of failure it is, a stable machine-readable code, and
 * a message that says what was wrong. {@code details} carries extra fields (a guest traceback,
 * the limit that was hit) into the error body. The platform speaks only in {@link Kind}s; the
 * HTTP API alone decides which status code each kind becomes.
 */
public final class ThawException extends RuntimeException {
    /** What went wrong, in the platform's terms. */
    public enum Kind {
        /** The request itself is wrong: a bad field, mode, count or file. */
        INVALID,
        /** The caller may not do this (a call its function.json does not allow). */
        FORBIDDEN,
        /** No such function, instance, invocation or trace. */
        NOT_FOUND,
        /** The request cannot be served in the platform's current state (e.g. a stale snapshot). */
        CONFLICT,
        /** A limit was reached; {@code details} name it and say when to retry. */
        LIMIT,
        /** The function's handler raised. */
        HANDLER,
        /** A snapshot file is damaged. */
        CORRUPT,
        /** The VM died or misbehaved. */
        VM_FAILED,
        /** The VM did not answer in time. */
        TIMEOUT,
        /** A chain of calls between functions went deeper than allowed. */
        CALL_DEPTH,
        /** The host's disk is too full for what was asked (a deploy's snapshot). */
        INSUFFICIENT_STORAGE,
        /** The platform is shutting down or was interrupted. */
        UNAVAILABLE,
        /** A fault of thaw itself. */
        INTERNAL
    }

    private final Kind kind;
    private final String code;
    private final transient ObjectNode details;

    public ThawException(Kind kind, String code, String message) {
        this(kind, code, message, null, null);
    }

    public ThawException(Kind kind, String code, String message, ObjectNode details, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.code = code;
        this.details = details;
    }

    public Kind kind() {
        return kind;
    }

    public String code() {
        return code;
    }

    public ObjectNode details() {
        return details;
    }

    public static ThawException notFound(String what) {
        return new ThawException(Kind.NOT_FOUND, "not_found", what);
    }

    public static ThawException badRequest(String what) {
        return new ThawException(Kind.INVALID, "bad_request", what);
    }

    /** A refusal because {@code limit} was reached; the client may retry after {@code retryAfterSeconds}. */
    public static ThawException limitExceeded(String limit, String message, int retryAfterSeconds) {
        ObjectNode details = Json.object().put("limit", limit).put("retry_after_s", retryAfterSeconds);
        return new ThawException(Kind.LIMIT, "limit_exceeded", message, details, null);
    }
}
