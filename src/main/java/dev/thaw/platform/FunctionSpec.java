package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.common.StrictJson;
import dev.thaw.model.Mode;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A function's {@code function.json}: what it is called, what it runs on, how big its VM is.
 *
 * @param inputs optional {@code {"record": event, "test": event}}; the record input warms the
 *               function up before its snapshot is taken and drives the working-set recording
 * @param record false to skip the working-set recording (the function then restores with
 *               vanilla even when reap or faasnap is asked for); e.g. for a handler with side effects
 * @param restore the strategy used when a {@code warm} call finds no idle instance
 *                ({@code vanilla}, {@code reap}, {@code reap-cache}, {@code faasnap}, {@code faasnap-sparse}, {@code uffd} or {@code thaw}; default thaw, vanilla without a record)
 * @param minWarm instances kept running even when idle past the keep-alive time
 * @param mayCall the functions its handler may call ({@code thaw.invoke}); none by default, so a
 *                guest can reach no other function unless its function.json says so
 * @param concurrencyTarget calls in flight per instance the autoscaler aims at (0 to 1), or null
 *                for the daemon's {@code --concurrency-target}
 * @param prime   false to opt out of priming: an instance restored ahead of demand is then parked
 *                without running its handler first (for a handler with side effects); see {@link #primeEvent}
 */
public record FunctionSpec(String name, String runtime, int memoryMib, int vcpus, int timeoutSeconds, JsonNode inputs,
                           boolean record, Mode restore, int minWarm, List<String> mayCall,
                           Double concurrencyTarget, boolean prime) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final List<String> FIELDS = List.of("name", "runtime", "memory_mib", "vcpus", "timeout_s", "inputs",
            "record", "restore", "min_warm", "may_call", "concurrency_target", "prime");
    /** The inputs a function may name: the one its snapshot is recorded with, and the one benchmarks send. */
    private static final List<String> INPUTS = List.of("record", "test");
    /** The strategies a warm miss may restore with. */
    private static final List<Mode> RESTORES = List.of(Mode.VANILLA, Mode.REAP, Mode.REAP_CACHE, Mode.FAASNAP, Mode.FAASNAP_SPARSE, Mode.UFFD, Mode.THAW);

    public FunctionSpec {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("function name must match " + NAME.pattern() + ", got " + name);
        }
        if (!"python3".equals(runtime)) throw new IllegalArgumentException("runtime must be \"python3\", got " + runtime);
        if (memoryMib < 128 || memoryMib > 8192) throw new IllegalArgumentException("memory_mib must be 128..8192, got " + memoryMib);
        if (vcpus < 1 || vcpus > 8) throw new IllegalArgumentException("vcpus must be 1..8, got " + vcpus);
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) throw new IllegalArgumentException("timeout_s must be 1..3600, got " + timeoutSeconds);
        if (inputs == null || inputs.isNull()) inputs = Json.object();
        if (restore == null) restore = Mode.THAW;
        if (!RESTORES.contains(restore)) {
            throw new IllegalArgumentException("restore must be one of " + RESTORES.stream().map(Mode::id).toList() + ", got " + restore.id());
        }
        if (minWarm < 0 || minWarm > 64) throw new IllegalArgumentException("min_warm must be 0..64, got " + minWarm);
        mayCall = mayCall == null ? List.of() : List.copyOf(mayCall);
        if (concurrencyTarget != null && !(concurrencyTarget > 0 && concurrencyTarget <= 1)) {
            throw new IllegalArgumentException("concurrency_target must be more than 0 and at most 1, got " + concurrencyTarget);
        }
        for (String callee : mayCall) {
            if (!NAME.matcher(callee).matches()) throw new IllegalArgumentException("may_call must name functions, got " + callee);
        }
    }

    /** Without {@code prime}: primed (the default). */
    public FunctionSpec(String name, String runtime, int memoryMib, int vcpus, int timeoutSeconds, JsonNode inputs,
                        boolean record, Mode restore, int minWarm, List<String> mayCall, Double concurrencyTarget) {
        this(name, runtime, memoryMib, vcpus, timeoutSeconds, inputs, record, restore, minWarm, mayCall, concurrencyTarget, true);
    }

    /** Parses function.json text; every problem names the field (see {@link #parse(String, String)}). */
    public static FunctionSpec parse(String json) {
        return parse(json, "function.json");
    }

    /**
     * Parses function.json text strictly: an unknown field (with a guess at the one meant), a
     * value of the wrong type and one out of range are each an {@link IllegalArgumentException}
     * naming {@code source} and the field. A field left out takes its default; {@code null} is
     * not a way to leave it out.
     *
     * @param source how messages name the file, e.g. its path
     */
    public static FunctionSpec parse(String json, String source) {
        JsonNode n;
        try {
            n = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) throw new IllegalArgumentException(source + " must be a JSON object, got " + StrictJson.shown(n));
        StrictJson.checkFields(n, FIELDS, "", source);
        Fields f = new Fields(n, source);
        return new FunctionSpec(f.name(), f.choice("runtime", "python3", List.of("python3")),
                f.integer("memory_mib", 256, 128, 8192), f.integer("vcpus", 1, 1, 8), f.integer("timeout_s", 60, 1, 3600),
                f.inputs(), f.bool("record", true), Mode.parse(f.choice("restore", "thaw", RESTORES.stream().map(Mode::id).toList())), f.integer("min_warm", 0, 0, 64), f.names("may_call"),
                f.fraction("concurrency_target"), f.bool("prime", true));
    }

    /** Whether this function's handler may call {@code callee}. */
    public boolean mayCall(String callee) {
        return mayCall.contains(callee);
    }

    /** Typed reads of function.json's fields, each failing with the file and the field's name. */
    private record Fields(JsonNode n, String source) {
        String name() {
            JsonNode v = n.get("name");
            if (v == null) throw error("name", "is required: the function's name, matching " + NAME.pattern());
            if (!v.isTextual() || !NAME.matcher(v.asText()).matches()) {
                throw error("name", "must be a function name matching " + NAME.pattern() + ", got " + StrictJson.shown(v));
            }
            return v.asText();
        }

        String choice(String field, String fallback, List<String> allowed) {
            JsonNode v = n.get(field);
            if (v == null) return fallback;
            if (!v.isTextual()) throw error(field, "must be one of " + String.join(", ", allowed) + ", got " + StrictJson.shown(v));
            if (!allowed.contains(v.asText())) {
                throw error(field, "must be one of " + String.join(", ", allowed) + ", got \"" + v.asText() + "\""
                        + StrictJson.suggest(v.asText(), allowed).map(a -> "; did you mean \"" + a + "\"?").orElse(""));
            }
            return v.asText();
        }

        int integer(String field, int fallback, int min, int max) {
            JsonNode v = n.get(field);
            if (v == null) return fallback;
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
                throw error(field, "must be a whole number from " + min + " to " + max + ", got " + StrictJson.shown(v));
            }
            return v.asInt();
        }

        /** A number in (0, 1], or null when absent. */
        Double fraction(String field) {
            JsonNode v = n.get(field);
            if (v == null) return null;
            if (!v.isNumber() || !(v.asDouble() > 0 && v.asDouble() <= 1)) {
                throw error(field, "must be a number more than 0 and at most 1 (calls in flight per instance), got " + StrictJson.shown(v));
            }
            return v.asDouble();
        }

        boolean bool(String field, boolean fallback) {
            JsonNode v = n.get(field);
            if (v == null) return fallback;
            if (!v.isBoolean()) throw error(field, "must be true or false, got " + StrictJson.shown(v));
            return v.asBoolean();
        }

        /** A list of function names, e.g. {@code "may_call": ["resize", "store"]}. */
        List<String> names(String field) {
            JsonNode v = n.get(field);
            if (v == null) return List.of();
            if (!v.isArray()) throw error(field, "must be a list of function names, got " + StrictJson.shown(v));
            List<String> out = new java.util.ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isTextual() || !NAME.matcher(e.asText()).matches()) {
                    throw error(field, "must list function names matching " + NAME.pattern() + ", got " + StrictJson.shown(e));
                }
                out.add(e.asText());
            }
            return out;
        }

        /** {@code inputs}: an object whose fields are the named inputs, each an event object. */
        JsonNode inputs() {
            JsonNode v = n.get("inputs");
            if (v == null) return Json.object();
            if (!v.isObject()) throw error("inputs", "must be an object such as {\"record\": {...}, \"test\": {...}}, got " + StrictJson.shown(v));
            StrictJson.checkFields(v, INPUTS, "inputs.", source);
            for (String input : INPUTS) {
                JsonNode event = v.get(input);
                if (event != null && !event.isObject()) {
                    throw error("inputs." + input, "must be an object (the event sent to the handler), got " + StrictJson.shown(event));
                }
            }
            return v;
        }

        IllegalArgumentException error(String field, String problem) {
            return new IllegalArgumentException("field \"" + field + "\" in " + source + " " + problem);
        }
    }

    /** The event used to warm a function up before its snapshot is taken. */
    public JsonNode warmupEvent() {
        JsonNode rec = inputs.get("record");
        return rec != null && rec.isObject() ? rec : Json.object();
    }

    /**
     * The event a priming call sends an instance restored ahead of demand (docs/design.md §7):
     * the record input, which the deploy's warm-up and the working-set record already ran, so the
     * handler is known to take it and its path is the one the snapshot's working set holds; else
     * the test input; else {@code {}}, the event the deploy's warm-up sent. Never a bare ping: only
     * the handler's own path gets its code translated and its first-call work done.
     */
    public JsonNode primeEvent() {
        for (String input : INPUTS) {
            JsonNode e = inputs.get(input);
            if (e != null && e.isObject()) return e;
        }
        return Json.object();
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("name", name).put("runtime", runtime)
                .put("memory_mib", memoryMib).put("vcpus", vcpus).put("timeout_s", timeoutSeconds);
        o.set("inputs", inputs);
        o.put("record", record).put("restore", restore.id()).put("min_warm", minWarm);
        mayCall.forEach(o.putArray("may_call")::add);
        if (concurrencyTarget != null) o.put("concurrency_target", concurrencyTarget);
        if (!prime) o.put("prime", false);
        return o;
    }
}
