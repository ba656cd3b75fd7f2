package dev.thaw.sim;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a simulated call costs, per bench function, taken from a {@code thaw bench} results file
 * (the {@code results} rows of its JSON, {@code dev.thaw.bench.BenchResult}, at parallelism 1,
 * the first row of each function and mode).
 *
 * <p>The model splits a measured latency into a platform part and the handler's execution, so
 * the trace's own durations can replace the bench input's: a warm call costs
 * {@code warm.total − warm.guest_exec + exec}, and a call that restores costs that plus the
 * restore's extra cost {@code restore.total − warm.total} (restore-to-reply of the chosen mode
 * minus a warm call, which keeps the first execution's extra page faults in the cold part).
 * {@code exec} is the trace's duration of the invocation when it has one, else the bench's warm
 * {@code guest_exec}. Guest memory per instance is the bench's {@code functions.<name>.memory_mib}
 * or the given default.
 */
public record BenchProfile(Path file, String restoreMode, Map<String, Function> functions) {

    /**
     * @param warmOverheadMs warm total minus warm guest_exec (the platform's part of a warm call)
     * @param warmExecMs     the bench's warm guest_exec, used when the trace has no duration
     * @param restoreExtraMs restore-to-reply of the mode minus the warm total (at least 0)
     * @param memoryMib      guest memory of one instance
     */
    public record Function(String name, double warmOverheadMs, double warmExecMs, double restoreExtraMs, int memoryMib) {
        /** Latency of a call with the given execution time (ms), warm or with a restore. */
        public double latencyMs(double execMs, boolean restored) {
            return warmOverheadMs + execMs + (restored ? restoreExtraMs : 0);
        }
    }

    static final List<String> RESTORE_MODES = List.of("cold", "vanilla", "cached", "reap", "faasnap");

    /** Reads a results file; functions lacking a warm row or a row of {@code restoreMode} are left out. */
    public static BenchProfile read(Path file, String restoreMode, int defaultMemoryMib) {
        if (!RESTORE_MODES.contains(restoreMode)) {
            throw new IllegalArgumentException("--restore-mode must be one of " + String.join(", ", RESTORE_MODES)
                    + ", got \"" + restoreMode + "\"");
        }
        JsonNode root;
        try {
            root = Json.parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        JsonNode results = root.path("results");
        if (!results.isArray() || results.isEmpty()) {
            throw new IllegalArgumentException(file + ": no \"results\" array (expected a thaw bench --json results file)");
        }
        Map<String, Map<String, JsonNode>> rows = new TreeMap<>();
        for (int i = 0; i < results.size(); i++) {
            JsonNode r = results.get(i);
            if (!r.path("function").isTextual() || !r.path("mode").isTextual() || !r.path("total_ms").path("median").isNumber()) {
                throw new IllegalArgumentException(file + ": results[" + i + "] lacks function, mode or total_ms.median");
            }
            if (r.path("parallelism").asInt(1) != 1) continue;
            rows.computeIfAbsent(r.get("function").asText(), k -> new TreeMap<>()).putIfAbsent(r.get("mode").asText(), r);
        }
        Map<String, Function> out = new TreeMap<>();
        for (var e : rows.entrySet()) {
            JsonNode warm = e.getValue().get("warm");
            JsonNode restore = e.getValue().get(restoreMode);
            if (warm == null || restore == null) continue;
            double warmTotal = warm.path("total_ms").path("median").asDouble();
            double warmExec = Math.min(warmTotal, warm.path("phases_ms").path("guest_exec").asDouble(0));
            double restoreTotal = restore.path("total_ms").path("median").asDouble();
            JsonNode mem = root.path("functions").path(e.getKey()).path("memory_mib");
            int memory = mem.isInt() && mem.asInt() > 0 ? mem.asInt() : defaultMemoryMib;
            out.put(e.getKey(), new Function(e.getKey(), warmTotal - warmExec, warmExec,
                    Math.max(0, restoreTotal - warmTotal), memory));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no function has both a warm and a " + restoreMode
                    + " result at parallelism 1");
        }
        return new BenchProfile(file, restoreMode, Collections.unmodifiableMap(out));
    }

    /**
     * Which bench function each trace function behaves like. {@code hash}: a stable 64-bit FNV-1a
     * hash of the trace function's name picks one of the bench functions (sorted by name), so a
     * function keeps its stand-in across runs and seeds; {@code workload}: the workload mapping's
     * target (must be a bench function); any other value: that bench function for all.
     */
    public List<Function> map(String mapping, List<String> sources, List<String> targets) {
        List<Function> sorted = new ArrayList<>(functions.values());
        List<Function> out = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            Function f = switch (mapping) {
                case "hash" -> sorted.get((int) Long.remainderUnsigned(fnv1a(sources.get(i)), sorted.size()));
                case "workload" -> named(targets.get(i), "the workload maps " + sources.get(i) + " to it");
                default -> named(mapping, "--map names it");
            };
            out.add(f);
        }
        return out;
    }

    private Function named(String name, String why) {
        Function f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException(file + " has no warm and " + restoreMode + " results for function \""
                    + name + "\" (" + why + "); it has: " + String.join(", ", functions.keySet()));
        }
        return f;
    }

    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
