package dev.thaw.api;

import dev.thaw.platform.ThawException;
import io.helidon.http.Status;

/** The one place a platform failure becomes an HTTP status. */
public final class ErrorStatus {
    private ErrorStatus() {}

    public static Status of(ThawException.Kind kind) {
        return switch (kind) {
            case INVALID -> Status.BAD_REQUEST_400;
            case FORBIDDEN -> Status.FORBIDDEN_403;
            case NOT_FOUND -> Status.NOT_FOUND_404;
            case INSUFFICIENT_STORAGE -> Status.create(507, "Insufficient Storage");
            case CONFLICT -> Status.CONFLICT_409;
            case LIMIT -> Status.TOO_MANY_REQUESTS_429;
            case HANDLER, CORRUPT, INTERNAL -> Status.INTERNAL_SERVER_ERROR_500;
            case VM_FAILED -> Status.BAD_GATEWAY_502;
            case UNAVAILABLE -> Status.SERVICE_UNAVAILABLE_503;
            case TIMEOUT -> Status.GATEWAY_TIMEOUT_504;
            case CALL_DEPTH -> Status.LOOP_DETECTED_508;
        };
    }
}
