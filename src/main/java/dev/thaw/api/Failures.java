package dev.thaw.api;

import dev.thaw.common.Json;
import dev.thaw.platform.ThawException;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;

/**
 * Every failure becomes the API's JSON error body, whoever noticed it.
 *
 * <p>Two doors lead here. A handler's exception reaches {@link #handle}, registered on the
 * routing for {@code Throwable}: a {@link ThawException} gets its kind's status through
 * {@link ErrorStatus}, an {@link ApiError} its own, anything unexpected a logged 500 — the
 * server stays up. Failures Helidon finds before there is a route (a malformed request line or
 * header, an unsupported HTTP version) never reach the routing; {@link #transport} is installed
 * as the listener's direct handler for those, so that they too answer JSON and not Helidon's
 * HTML-escaped text.
 */
final class Failures {
    private static final System.Logger LOG = System.getLogger(ApiServer.class.getName());

    private Failures() {}

    /** The routing's error handler: the exception's answer, sent. */
    static void handle(ServerRequest req, ServerResponse res, Throwable t) {
        reply(req, t).send(req, res);
    }

    static Reply reply(ServerRequest req, Throwable t) {
        return switch (t) {
            case ThawException e -> {
                Reply r = Reply.error(ErrorStatus.of(e.kind()), e.code(), e.getMessage(), e.details());
                yield e.details() != null && e.details().has("retry_after_s")
                        ? r.with(HeaderNames.RETRY_AFTER, e.details().get("retry_after_s").asText()) : r;
            }
            case ApiError e -> Reply.error(e.status(), e.code(), e.getMessage(), null).with(e.headers());
            case IllegalArgumentException e -> Reply.error(Status.BAD_REQUEST_400, "bad_request", e.getMessage(), null);
            case HttpException e -> Reply.error(e.status(), code(e.status()), e.getMessage(), null);
            default -> {
                LOG.log(System.Logger.Level.ERROR, req.prologue().method().text() + " "
                        + req.prologue().uriPath().rawPath() + " failed", t);
                yield Reply.error(Status.INTERNAL_SERVER_ERROR_500, "internal", t.toString(), null);
            }
        };
    }

    /** The listener's direct handler: Helidon's own refusals, as JSON. */
    static DirectHandler.TransportResponse transport(DirectHandler.TransportRequest request, DirectHandler.EventType type,
                                                     Status status, ServerResponseHeaders headers, String message) {
        String text = message == null || message.isBlank() ? status.reasonPhrase() : message;
        byte[] body = Json.write(Reply.errorBody(code(status), text, null)).getBytes(StandardCharsets.UTF_8);
        headers.set(HeaderNames.CONTENT_TYPE, Reply.JSON);
        return DirectHandler.TransportResponse.builder().status(status).headers(headers).entity(body).build();
    }

    /** The error code of a status Helidon chose. */
    static String code(Status status) {
        return switch (status.code()) {
            case 400 -> "bad_request";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 413 -> "body_too_large";
            case 414 -> "uri_too_long";
            case 431 -> "headers_too_large";
            case 500 -> "internal";
            case 505 -> "http_version_not_supported";
            default -> "http_" + status.code();
        };
    }
}
