package dev.thaw.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.StrictJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A JSON object of the workload file together with where it is (the file, and the path inside
 * it such as {@code source.functions[2]}), so that every complaint names the file, the field and
 * the problem: {@code w.json: source.functions[2].rate: must be a number, got "fast" (a string)}.
 * Unknown fields are worded as in every other user file ({@link StrictJson}), with a guess at the
 * field meant.
 */
final class Spec {
    final String file;
    /** Where this object is inside the file: empty at the top level, else e.g. {@code source.functions[2]}. */
    final String path;
    final JsonNode node;

    /** The file's top-level object. */
    Spec(String file, JsonNode node) {
        this(file, "", node);
    }

    private Spec(String file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
        if (node == null || !node.isObject()) {
            throw new WorkloadException(file + ": " + (path.isEmpty() ? "(top level)" : path) + ": must be a JSON object, got "
                    + StrictJson.shown(node));
        }
    }

    private String at(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    WorkloadException error(String field, String problem) {
        return new WorkloadException(file + ": " + at(field) + ": " + problem);
    }

    /** Rejects fields this object does not know (typos would otherwise be silently ignored). */
    Spec allow(String... fields) {
        StrictJson.checkFields(node, Set.of(fields), path.isEmpty() ? "" : path + ".", file, WorkloadException::new);
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
            throw error(field, "must be a string, got " + StrictJson.shown(v));
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
        throw error(field, "'" + v + "' is not one of " + String.join(", ", allowed)
                + (v == null ? "" : StrictJson.suggest(v, List.of(allowed)).map(a -> "; did you mean '" + a + "'?").orElse("")));
    }

    double number(String field, double fallback, double min, double max) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw error(field, "must be a number, got " + StrictJson.shown(v));
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
            throw error(field, "must be a whole number, got " + StrictJson.shown(v));
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
            throw error(field, "must be a whole number, got " + StrictJson.shown(v));
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
        throw error(field, "must be a duration such as \"90s\" or a number of seconds, got " + StrictJson.shown(v));
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
        return new Spec(file, at(field), v);
    }

    /** The elements of an array of objects (empty if absent). */
    List<Spec> objects(String field) {
        JsonNode v = node.get(field);
        List<Spec> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw error(field, "must be an array, got " + StrictJson.shown(v));
        }
        for (int i = 0; i < v.size(); i++) {
            out.add(new Spec(file, at(field) + "[" + i + "]", v.get(i)));
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
            throw error(field, "must be an array of strings, got " + StrictJson.shown(v));
        }
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw error(field + "[" + i + "]", "must be a string, got " + StrictJson.shown(v.get(i)));
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    /** The raw JSON of a field, re-serialised compactly, or null if absent. */
    String json(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.toString();
    }
}
