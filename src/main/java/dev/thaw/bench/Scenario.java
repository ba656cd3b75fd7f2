package dev.thaw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.common.StrictJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What {@code thaw bench} runs: named experiments, each a grid of functions × inputs × modes ×
 * parallelism levels, every cell repeated {@code runs} times. The file format is documented in
 * docs/bench.md; in short, a JSON object whose experiment fields at the top level are defaults
 * for every entry of {@code experiments}, and a file without {@code experiments} is one
 * experiment.
 *
 * <p>Parsing is strict on purpose: a typo in a field name or a mode would otherwise silently run
 * hours of the wrong benchmark, so every problem is an {@link IllegalArgumentException} whose
 * message names the file, the field and what was expected.
 */
public record Scenario(String name, String description, List<Experiment> experiments) {
    /** The token for "every function directory under functions/". */
    public static final String ALL = "all";
    public static final List<String> INPUTS = List.of("record", "test");
    /** More concurrent restores than this is a typo on a benchmark host, not an experiment. */
    public static final int MAX_PARALLELISM = 64;

    private static final Pattern FUNCTION_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Set<String> EXPERIMENT_FIELDS = Set.of("name", "functions", "input", "modes", "runs", "parallelism", "drop_cache");
    private static final Set<String> TOP_FIELDS = Set.of("name", "description", "experiments", "functions", "input", "modes", "runs", "parallelism", "drop_cache");

    /**
     * One grid of runs.
     *
     * @param functions   function names, or the single entry {@link #ALL} until {@link #resolve} expands it
     * @param inputs      which of each function's inputs ({@code record}, {@code test}) to send
     * @param parallelism concurrent invocations per run, one level per entry
     * @param dropCache   whether runs start with the function's snapshot files dropped from the page
     *                    cache; never done for {@code warm} and {@code cached}
     */
    public record Experiment(String name, List<String> functions, List<String> inputs, List<String> modes,
                             int runs, List<Integer> parallelism, boolean dropCache) {
        public Experiment {
            functions = List.copyOf(functions);
            inputs = List.copyOf(inputs);
            modes = List.copyOf(modes);
            parallelism = List.copyOf(parallelism);
        }

        public boolean dropsCacheFor(String mode) {
            return dropCache && !Modes.neverDrops(mode);
        }

        /** How many runs (rounds of {@code parallelism} concurrent invocations) this experiment makes. */
        public int plannedRuns() {
            return functions.size() * inputs.size() * modes.size() * parallelism.size() * runs;
        }

        /** How many invocations this experiment makes. */
        public int plannedInvocations() {
            return functions.size() * inputs.size() * modes.size() * runs * parallelism.stream().mapToInt(Integer::intValue).sum();
        }
    }

    public Scenario {
        experiments = List.copyOf(experiments);
    }

    public int plannedRuns() {
        return experiments.stream().mapToInt(Experiment::plannedRuns).sum();
    }

    public int plannedInvocations() {
        return experiments.stream().mapToInt(Experiment::plannedInvocations).sum();
    }

    /** Every function any experiment names, in first-mention order. */
    public List<String> functions() {
        Set<String> all = new LinkedHashSet<>();
        experiments.forEach(e -> all.addAll(e.functions()));
        return List.copyOf(all);
    }

    /** Replaces {@link #ALL} with every function directory (one holding function.json) under {@code functionsDir}, sorted. */
    public Scenario resolve(Path functionsDir) {
        List<Experiment> out = new ArrayList<>();
        for (Experiment e : experiments) {
            if (!e.functions().equals(List.of(ALL))) {
                out.add(e);
                continue;
            }
            List<String> names = functionDirectories(functionsDir);
            if (names.isEmpty()) {
                throw new IllegalArgumentException("experiment " + e.name() + ": functions \"all\" but " + functionsDir + " holds no function directories");
            }
            out.add(new Experiment(e.name(), names, e.inputs(), e.modes(), e.runs(), e.parallelism(), e.dropCache()));
        }
        return new Scenario(name, description, out);
    }

    /** Names of the subdirectories of {@code dir} that contain a function.json, sorted. */
    public static List<String> functionDirectories(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("functions directory " + dir + " does not exist");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(d -> Files.isRegularFile(d.resolve("function.json")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The built-in scenario that mirrors the REAP and FaaSnap evaluations: every function in
     * every mode with its test input (an input other than the one its snapshot was recorded
     * with), then 1, 2, 4 and 8 concurrent restores of one function, vanilla against faasnap.
     */
    public static Scenario paper(List<String> functions, int runs, String concurrencyFunction) {
        if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1, got " + runs);
        List<String> fns = functions.isEmpty() ? List.of(ALL) : functions;
        for (String f : fns) {
            if (!f.equals(ALL)) checkFunctionName(f, "--functions");
        }
        checkFunctionName(concurrencyFunction, "--concurrency-function");
        return new Scenario("paper", "Every function in every mode (test input), then concurrent restores of "
                + concurrencyFunction + ": the experiments of the REAP and FaaSnap papers.", List.of(
                new Experiment("modes", fns, List.of("test"), Modes.ALL, runs, List.of(1), true),
                new Experiment("concurrency", List.of(concurrencyFunction), List.of("test"), List.of("vanilla", "faasnap"),
                        runs, List.of(1, 2, 4, 8), true)));
    }

    private static void checkFunctionName(String name, String what) {
        if (name == null || !FUNCTION_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + ": \"" + name + "\" is not a function name (expected " + FUNCTION_NAME.pattern() + ")");
        }
    }

    // ---------------------------------------------------------------- parsing

    public static Scenario parse(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("scenario " + file + ": no such file");
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("scenario " + file + ": cannot read it (" + e.getMessage() + ")", e);
        }
        String fallbackName = file.getFileName().toString().replaceFirst("\\.json$", "");
        return parse(text, file.toString(), fallbackName);
    }

    /**
     * Parses scenario text.
     *
     * @param source       how errors name the file
     * @param fallbackName the scenario's name when the file gives none
     */
    public static Scenario parse(String text, String source, String fallbackName) {
        JsonNode root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scenario " + source + ": " + e.getMessage(), e);
        }
        return new Parser(source).scenario(root, fallbackName);
    }

    /** Walks the JSON tree, turning each problem into a message with the file and the field's path. */
    private record Parser(String source) {
        Scenario scenario(JsonNode root, String fallbackName) {
            if (root == null || !root.isObject()) throw error("(top level)", "must be a JSON object");
            checkFields(root, TOP_FIELDS, "");
            String name = optionalText(root, "name", "", fallbackName);
            String description = optionalText(root, "description", "", "");
            List<Experiment> experiments = new ArrayList<>();
            JsonNode list = root.get("experiments");
            if (list == null) {
                experiments.add(experiment(root, Json.object(), "", name));
            } else {
                if (!list.isArray() || list.isEmpty()) throw error("experiments", "must be a non-empty array of experiment objects");
                Set<String> names = new HashSet<>();
                for (int i = 0; i < list.size(); i++) {
                    String at = "experiments[" + i + "]";
                    JsonNode e = list.get(i);
                    if (!e.isObject()) throw error(at, "must be an object");
                    checkFields(e, EXPERIMENT_FIELDS, at + ".");
                    Experiment x = experiment(root, e, at + ".", name + "-" + (i + 1));
                    if (!names.add(x.name())) throw error(at + ".name", "\"" + x.name() + "\" is used by an earlier experiment; names must be unique");
                    experiments.add(x);
                }
            }
            return new Scenario(name, description, experiments);
        }

        /** An experiment's fields come from {@code own}, else from the top-level defaults. */
        Experiment experiment(JsonNode defaults, JsonNode own, String at, String fallbackName) {
            String name = optionalText(own, "name", at, fallbackName);
            if (name.isBlank()) throw error(at + "name", "must not be empty");
            return new Experiment(name,
                    functions(pick(own, defaults, "functions"), where(own, defaults, at, "functions")),
                    inputs(pick(own, defaults, "input"), where(own, defaults, at, "input")),
                    modes(pick(own, defaults, "modes"), where(own, defaults, at, "modes")),
                    runs(pick(own, defaults, "runs"), where(own, defaults, at, "runs")),
                    parallelism(pick(own, defaults, "parallelism"), where(own, defaults, at, "parallelism")),
                    dropCache(pick(own, defaults, "drop_cache"), where(own, defaults, at, "drop_cache")));
        }

        private static JsonNode pick(JsonNode own, JsonNode defaults, String field) {
            return own.has(field) ? own.get(field) : defaults.get(field);
        }

        /** The path to name in an error: the top-level default the experiment inherited, else its own field. */
        private static String where(JsonNode own, JsonNode defaults, String at, String field) {
            return !own.has(field) && defaults.has(field) ? field : at + field;
        }

        List<String> functions(JsonNode n, String at) {
            if (n == null) throw error(at, "is required: a list of function names, or \"all\" for every directory under functions/");
            if (n.isTextual() && n.asText().equals(ALL)) return List.of(ALL);
            List<String> names = strings(n, at, "a list of function names, or \"all\"");
            for (int i = 0; i < names.size(); i++) {
                if (!FUNCTION_NAME.matcher(names.get(i)).matches()) {
                    throw error(at + "[" + i + "]", "\"" + names.get(i) + "\" is not a function name (expected " + FUNCTION_NAME.pattern() + ")");
                }
            }
            return names;
        }

        List<String> inputs(JsonNode n, String at) {
            if (n == null) return List.of("test");
            List<String> inputs = n.isTextual() ? List.of(n.asText()) : strings(n, at, "\"record\", \"test\" or a list of them");
            for (int i = 0; i < inputs.size(); i++) {
                if (!INPUTS.contains(inputs.get(i))) {
                    throw error(n.isTextual() ? at : at + "[" + i + "]", "unknown input \"" + inputs.get(i) + "\"; expected \"record\" or \"test\"");
                }
            }
            return inputs;
        }

        List<String> modes(JsonNode n, String at) {
            if (n == null) throw error(at, "is required: a list of modes from " + String.join(", ", Modes.ALL));
            List<String> modes = strings(n, at, "a list of modes from " + String.join(", ", Modes.ALL));
            for (int i = 0; i < modes.size(); i++) {
                if (!Modes.known(modes.get(i))) {
                    throw error(at + "[" + i + "]", "unknown mode \"" + modes.get(i) + "\"; expected one of " + String.join(", ", Modes.ALL));
                }
            }
            return modes;
        }

        int runs(JsonNode n, String at) {
            if (n == null) return 5;
            if (!n.isIntegralNumber() || n.asLong() < 1 || n.asLong() > 100_000) throw error(at, "must be a whole number of at least 1, got " + n);
            return n.asInt();
        }

        List<Integer> parallelism(JsonNode n, String at) {
            if (n == null) return List.of(1);
            List<JsonNode> levels = new ArrayList<>();
            if (n.isArray()) n.forEach(levels::add);
            else levels.add(n);
            if (levels.isEmpty()) throw error(at, "must not be empty");
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < levels.size(); i++) {
                JsonNode v = levels.get(i);
                String vat = n.isArray() ? at + "[" + i + "]" : at;
                if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > MAX_PARALLELISM) {
                    throw error(vat, "must be a whole number from 1 to " + MAX_PARALLELISM + ", got " + v);
                }
                if (out.contains(v.asInt())) throw error(vat, "level " + v.asInt() + " is listed twice");
                out.add(v.asInt());
            }
            return out;
        }

        boolean dropCache(JsonNode n, String at) {
            if (n == null) return true;
            if (!n.isBoolean()) throw error(at, "must be true or false, got " + n);
            return n.asBoolean();
        }

        List<String> strings(JsonNode n, String at, String expected) {
            if (!n.isArray() || n.isEmpty()) throw error(at, "must be " + expected + " (a non-empty array), got " + n);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                JsonNode v = n.get(i);
                if (!v.isTextual()) throw error(at + "[" + i + "]", "must be a string, got " + v);
                if (out.contains(v.asText())) throw error(at + "[" + i + "]", "\"" + v.asText() + "\" is listed twice");
                out.add(v.asText());
            }
            return out;
        }

        String optionalText(JsonNode n, String field, String at, String fallback) {
            JsonNode v = n.get(field);
            if (v == null) return fallback;
            if (!v.isTextual()) throw error(at + field, "must be a string, got " + v);
            return v.asText();
        }

        void checkFields(JsonNode n, Set<String> allowed, String at) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                String f = it.next().getKey();
                if (!allowed.contains(f)) {
                    String hint = StrictJson.suggest(f, allowed).map(a -> " (did you mean \"" + a + "\"?)").orElse("");
                    throw error(at + f, "unknown field" + hint + "; allowed: " + String.join(", ", allowed.stream().sorted().toList()));
                }
            }
        }

        IllegalArgumentException error(String field, String problem) {
            return new IllegalArgumentException("scenario " + source + ": " + field + ": " + problem);
        }
    }
}
