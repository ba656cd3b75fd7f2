package dev.thaw.api;

import dev.thaw.platform.ThawException;

/** The one place a platform failure becomes an HTTP status code. */
public final class ErrorStatus {
    private ErrorStatus() {}

    public static int of(ThawException.Kind kind) {
        return switch (kind) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case LIMIT -> 429;
            case HANDLER, CORRUPT, INTERNAL -> 500;
            case VM_FAILED -> 502;
            case UNAVAILABLE -> 503;
            case TIMEOUT -> 504;
            case CALL_DEPTH -> 508;
        };
    }
}
