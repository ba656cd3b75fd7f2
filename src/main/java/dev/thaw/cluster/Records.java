package dev.thaw.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.thaw.common.Json;

/** Reads the JSON records nodes keep in etcd; a malformed one is an error that names it, not a skipped node. */
public final class Records {
    private Records() {}

    public static <T> T read(String json, Class<T> type) {
        try {
            return Json.MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a " + type.getSimpleName() + " in etcd is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
