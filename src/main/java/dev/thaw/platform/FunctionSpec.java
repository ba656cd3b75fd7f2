package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.util.regex.Pattern;

/**
 * A function's {@code function.json}: what it is called, what it runs on, how big its VM is.
 *
 * @param inputs optional {@code {"record": event, "test": event}}; the record input warms the
 *               function up before its snapshot is taken and drives the working-set recording
 * @param record false to skip the working-set recording (the function then restores with
 *               vanilla even when reap or faasnap is asked for); e.g. for a handler with side effects
 * @param restore the strategy used when a {@code warm} call finds no idle instance
 *                ({@code vanilla}, {@code reap} or {@code faasnap}; default faasnap, vanilla without a record)
 * @param minWarm instances kept running even when idle past the keep-alive time
 */
public record FunctionSpec(String name, String runtime, int memoryMib, int vcpus, int timeoutSeconds, JsonNode inputs,
                           boolean record, String restore, int minWarm) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    public FunctionSpec {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("function name must match " + NAME.pattern() + ", got " + name);
        }
        if (!"python3".equals(runtime)) throw new IllegalArgumentException("runtime must be \"python3\", got " + runtime);
        if (memoryMib < 128 || memoryMib > 8192) throw new IllegalArgumentException("memory_mib must be 128..8192, got " + memoryMib);
        if (vcpus < 1 || vcpus > 8) throw new IllegalArgumentException("vcpus must be 1..8, got " + vcpus);
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) throw new IllegalArgumentException("timeout_s must be 1..3600, got " + timeoutSeconds);
        if (inputs == null || inputs.isNull()) inputs = Json.object();
        if (restore == null) restore = "faasnap";
        if (!java.util.List.of("vanilla", "reap", "faasnap").contains(restore)) {
            throw new IllegalArgumentException("restore must be vanilla, reap or faasnap, got " + restore);
        }
        if (minWarm < 0 || minWarm > 64) throw new IllegalArgumentException("min_warm must be 0..64, got " + minWarm);
    }

    /** Parses function.json text; every problem is reported with the field's name. */
    public static FunctionSpec parse(String json) {
        JsonNode n = Json.parse(json);
        if (!n.isObject()) throw new IllegalArgumentException("function.json must be a JSON object");
        return new FunctionSpec(
                n.path("name").isTextual() ? n.get("name").asText() : null,
                n.path("runtime").asText("python3"),
                n.path("memory_mib").asInt(256),
                n.path("vcpus").asInt(1),
                n.path("timeout_s").asInt(60),
                n.get("inputs"),
                n.path("record").asBoolean(true),
                n.path("restore").asText("faasnap"),
                n.path("min_warm").asInt(0));
    }

    /** The event used to warm a function up before its snapshot is taken. */
    public JsonNode warmupEvent() {
        JsonNode rec = inputs.get("record");
        return rec != null && rec.isObject() ? rec : Json.object();
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("name", name).put("runtime", runtime)
                .put("memory_mib", memoryMib).put("vcpus", vcpus).put("timeout_s", timeoutSeconds);
        o.set("inputs", inputs);
        o.put("record", record).put("restore", restore).put("min_warm", minWarm);
        return o;
    }
}
