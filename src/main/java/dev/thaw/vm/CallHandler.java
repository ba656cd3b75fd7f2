package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Serves a function's call to another function, made from inside a guest ({@code thaw.invoke}).
 * The request is untrusted guest input; the returned reply goes back to that guest.
 */
@FunctionalInterface
public interface CallHandler {
    JsonNode call(JsonNode request);

    /** For guests that may not call functions (probes). */
    CallHandler NONE = request -> {
        throw new IllegalStateException("calls between functions are not enabled here");
    };
}
