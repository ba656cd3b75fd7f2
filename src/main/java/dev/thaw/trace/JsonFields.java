package dev.thaw.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.thaw.common.Json;

import java.util.HashMap;
import java.util.Map;

/** Small lenient readers shared by the two trace formats. */
final class JsonFields {
    private JsonFields() {}

    /** A field as text: strings as they are, numbers and bools printed; null when absent or null. */
    static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || value.isNull() || value.isContainerNode()) {
            return null;
        }
        return value.asText();
    }

    /** A microsecond count that must be present; numeric strings are accepted too. */
    static long micros(JsonNode node, String field, String what) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new TraceFormatException(what + " has no " + field);
        }
        if (value.isIntegralNumber()) {
            return value.asLong();
        }
        if (value.isNumber()) {
            return Math.round(value.asDouble());
        }
        if (value.isTextual()) {
            try {
                return Long.parseLong(value.asText().trim());
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new TraceFormatException(what + " has a " + field + " that is not a number: " + value);
    }

    /** Jaeger tags ({@code [{key, type, value}]}) or Zipkin tags ({@code {key: value}}) as a string map. */
    static Map<String, String> tags(JsonNode tags) {
        Map<String, String> result = new HashMap<>();
        if (tags == null) {
            return result;
        }
        if (tags.isArray()) {
            for (JsonNode tag : tags) {
                String key = text(tag, "key");
                JsonNode value = tag.get("value");
                if (key != null && value != null && !value.isNull()) {
                    result.put(key, value.isValueNode() ? value.asText() : value.toString());
                }
            }
        } else if (tags.isObject()) {
            tags.properties().forEach(e -> {
                JsonNode value = e.getValue();
                if (!value.isNull()) {
                    result.put(e.getKey(), value.isValueNode() ? value.asText() : value.toString());
                }
            });
        }
        return result;
    }

    static ArrayNode arrayOf(JsonNode single) {
        ArrayNode array = Json.MAPPER.createArrayNode();
        array.add(single);
        return array;
    }
}
