package dev.thaw.load;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A JSON object of the workload file together with where it is ({@code file: source.functions[2]}),
 * so that every complaint names the file, the field and the problem.
 */
final class Spec {
    final String where;
    final JsonNode node;

    Spec(String where, JsonNode node) {
        this.where = where;
        this.node = node;
        if (node == null || !node.isObject()) {
            throw new WorkloadException(where + ": must be a JSON object");
        }
    }

    WorkloadException error(String field, String problem) {
        return new WorkloadException(where + "." + field + ": " + problem);
    }

    /** Rejects fields this object does not know (typos would otherwise be silently ignored). */
    Spec allow(String... fields) {
        Set<String> known = Set.of(fields);
        for (var it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                throw new WorkloadException(where + ": unknown field '" + f + "' (expected one of " + String.join(", ", fields) + ")");
            }
        }
        return this;
    }

    boolean has(String field) {
        return node.hasNonNull(field);
    }

    String text(String field, String fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw error(field, "must be a string");
        }
        return v.asText();
    }

    String requiredText(String field) {
        String v = text(field, null);
        if (v == null || v.isBlank()) {
            throw error(field, "is required");
        }
        return v;
    }

    String choice(String field, String fallback, String... allowed) {
        String v = text(field, fallback);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw error(field, "'" + v + "' is not one of " + String.join(", ", allowed));
    }

    double number(String field, double fallback, double min, double max) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw error(field, "must be a number");
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw error(field, d + " is outside [" + min + ", " + max + "]");
        }
        return d;
    }

    int integer(String field, int fallback, int min, int max) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw error(field, "must be an integer");
        }
        int i = v.asInt();
        if (i < min || i > max) {
            throw error(field, i + " is outside [" + min + ", " + max + "]");
        }
        return i;
    }

    long longValue(String field, long fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw error(field, "must be an integer");
        }
        return v.asLong();
    }

    /** A duration given as a string ("90s", "2m") or a number of seconds. */
    Duration duration(String field, Duration fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        try {
            if (v.isNumber()) {
                return Durations.parse(v.asText());
            }
            if (v.isTextual()) {
                return Durations.parse(v.asText());
            }
        } catch (IllegalArgumentException e) {
            throw error(field, e.getMessage());
        }
        throw error(field, "must be a duration such as \"90s\" or a number of seconds");
    }

    Duration requiredDuration(String field) {
        Duration d = duration(field, null);
        if (d == null) {
            throw error(field, "is required");
        }
        return d;
    }

    Spec object(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw error(field, "is required");
        }
        return new Spec(where + "." + field, v);
    }

    /** The elements of an array of objects (empty if absent). */
    List<Spec> objects(String field) {
        JsonNode v = node.get(field);
        List<Spec> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw error(field, "must be an array");
        }
        for (int i = 0; i < v.size(); i++) {
            out.add(new Spec(where + "." + field + "[" + i + "]", v.get(i)));
        }
        return out;
    }

    /** An array of strings (empty if absent). */
    List<String> strings(String field) {
        JsonNode v = node.get(field);
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw error(field, "must be an array of strings");
        }
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw error(field, "must be an array of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    /** The raw JSON of a field, re-serialised compactly, or null if absent. */
    String json(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.toString();
    }
}
