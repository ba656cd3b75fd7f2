package dev.thaw.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.thaw.common.Json;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The daemon answered, and the answer was an error: its HTTP status, the daemon's error code and
 * message, and the whole body for anything else the error carries (a handler's traceback, the
 * limit that was hit).
 *
 * <p>thaw's daemon writes {@code {"error": {"code", "message", …}}}; anything in front of it (a
 * proxy, an older daemon, a trace store) may not, so a bare string error, a body that is not
 * JSON or no body at all are decoded too, with the code left empty and the message taken from
 * whatever text there is. A 429 or 503 may say when to come back: {@link #retryAfter()} reads the
 * {@code Retry-After} header, or the daemon's {@code retry_after_s} when the header is missing.
 */
public final class DaemonException extends RuntimeException {
    private static final int MAX_TEXT = 300;

    private final String request;
    private final int status;
    private final String code;
    private final String errorMessage;
    private final JsonNode body;
    private final Duration retryAfter;

    /** An error answer built by hand (scripted daemons in tests). */
    public DaemonException(int status, String code, String errorMessage) {
        this("", status, code, errorMessage, MissingNode.getInstance(), null);
    }

    private DaemonException(String request, int status, String code, String errorMessage, JsonNode body, Duration retryAfter) {
        super((request.isEmpty() ? "" : request + ": ") + "HTTP " + status + (code.isEmpty() ? "" : " " + code)
                + (errorMessage.isEmpty() ? "" : ": " + errorMessage));
        this.request = request;
        this.status = status;
        this.code = code;
        this.errorMessage = errorMessage;
        this.body = body;
        this.retryAfter = retryAfter;
    }

    /**
     * Decodes an error answer.
     *
     * @param request what was asked, e.g. {@code POST http://host/functions/f/invoke}, for the message
     * @param retryAfterHeader the {@code Retry-After} header, or null
     * @param now the time an HTTP-date in {@code Retry-After} is measured from
     */
    static DaemonException decode(String request, int status, String text, String retryAfterHeader, Instant now) {
        JsonNode body = parseOrText(text);
        JsonNode error = body.path("error");
        String code = error.path("code").asText("");
        String message;
        if (error.path("message").isTextual()) {
            message = error.path("message").asText();
        } else if (error.isTextual()) {
            message = error.asText();
        } else {
            message = shorten(text.strip());
        }
        Duration wait = parseRetryAfter(retryAfterHeader, now);
        if (wait == null && error.path("retry_after_s").isNumber()) {
            wait = Duration.ofMillis(Math.round(Math.max(0, error.path("retry_after_s").asDouble()) * 1000));
        }
        return new DaemonException(request, status, code, message, body, wait);
    }

    /** The body as JSON, or as one text node when it is not JSON (an HTML error page, plain text). */
    private static JsonNode parseOrText(String text) {
        if (text.isBlank()) return MissingNode.getInstance();
        try {
            return Json.parse(text);
        } catch (IllegalArgumentException notJson) {
            return TextNode.valueOf(text);
        }
    }

    private static String shorten(String text) {
        return text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) + "…" : text;
    }

    /** {@code Retry-After} as delay-seconds or as an HTTP-date (RFC 9110 §10.2.3); null when absent or unreadable. */
    static Duration parseRetryAfter(String header, Instant now) {
        if (header == null || header.isBlank()) return null;
        String h = header.strip();
        try {
            double seconds = Double.parseDouble(h);
            return seconds >= 0 && Double.isFinite(seconds) ? Duration.ofMillis(Math.round(seconds * 1000)) : null;
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(now, ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    /** What was asked: method and URL; empty for an exception built by hand. */
    public String request() {
        return request;
    }

    public int status() {
        return status;
    }

    /** The daemon's error code ({@code handler_error}, {@code bad_mode}, …); empty when the body had none. */
    public String code() {
        return code;
    }

    /** The daemon's own message, without the request and status that {@link #getMessage()} adds. */
    public String errorMessage() {
        return errorMessage;
    }

    /** The body as sent: JSON, a text node when it was not JSON, or a missing node when there was none. */
    public JsonNode body() {
        return body;
    }

    /** The body's {@code error} object (e.g. for its {@code traceback}); a missing node when there is none. */
    public JsonNode error() {
        return body.path("error");
    }

    /** How long the daemon asked the client to wait before trying again (429, 503), when it said. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
