package dev.thaw.common;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Collection;
import java.util.Iterator;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * What every parser of a user-written JSON file (function.json, app.json, workload and scenario
 * files) shares: the "did you mean" guess for a misspelt name, and the one wording of an unknown
 * field, {@code unknown field "min_wram" in function.json; did you mean "min_warm"?}.
 *
 * <p>Those files are read strictly because a typo that is silently ignored costs far more than
 * an error: a benchmark or a load test runs for an hour with a default the user meant to change.
 * Each parser keeps its own walk over its fields (they differ in what they check); this class
 * holds only the parts that must read the same everywhere.
 *
 * <p>The guess is the known name closest by edit distance, counting a swap of two neighbouring
 * letters as one edit ({@code min_wram} → {@code min_warm}), ignoring case, and accepted only
 * when the distance is small for the word's length; of equally close names, the one sharing the
 * longest start with the word wins ({@code sped} → {@code speed}, not {@code seed}); failing that, a known name that starts with
 * the word or that the word starts with ({@code mode} → {@code modes}, {@code mem} →
 * {@code memory_mib}). No guess at all is better than a wild one.
 */
public final class StrictJson {
    private StrictJson() {}

    /** The known name the user most likely meant by {@code word}, if any is close enough. */
    public static Optional<String> suggest(String word, Collection<String> known) {
        String w = word.toLowerCase(Locale.ROOT);
        int allowed = Math.max(1, Math.min(3, w.length() / 3));
        String best = null;
        int bestDistance = Integer.MAX_VALUE, bestPrefix = -1;
        for (String k : known.stream().sorted().toList()) {
            String l = k.toLowerCase(Locale.ROOT);
            int d = distance(w, l), p = commonPrefix(w, l);
            // Ties go to the name that starts like the word: people mistype the end more often.
            if (d < bestDistance || d == bestDistance && p > bestPrefix) {
                best = k;
                bestDistance = d;
                bestPrefix = p;
            }
        }
        if (best != null && bestDistance <= allowed) return Optional.of(best);
        if (w.length() < 3) return Optional.empty();
        return known.stream().sorted().filter(k -> {
            String l = k.toLowerCase(Locale.ROOT);
            return l.startsWith(w) || w.startsWith(l);
        }).findFirst();
    }

    /** {@code ; did you mean "x"?} for the closest known name, else {@code ; expected one of a, b, c}. */
    public static String hint(String word, Collection<String> known) {
        return hint(word, known, "");
    }

    /** {@link #hint(String, Collection)} with {@code prefix} (a path such as {@code inputs.}) before the names shown. */
    public static String hint(String word, Collection<String> known, String prefix) {
        return suggest(word, known).map(s -> "; did you mean \"" + prefix + s + "\"?")
                .orElseGet(() -> "; expected one of " + String.join(", ", known.stream().sorted().map(k -> prefix + k).toList()));
    }

    /**
     * The message for the first field of {@code object} not in {@code known}, if there is one.
     *
     * @param path   where the object is, as a prefix of its fields' names ({@code ""} at the top,
     *               {@code "inputs."} inside {@code inputs})
     * @param source how the message names the file
     */
    public static Optional<String> unknownField(JsonNode object, Collection<String> known, String path, String source) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) return Optional.of("unknown field \"" + path + f + "\" in " + source + hint(f, known, path));
        }
        return Optional.empty();
    }

    /** Throws {@code error.apply(message)} for the first unknown field of {@code object}. */
    public static void checkFields(JsonNode object, Collection<String> known, String path, String source,
                                   Function<String, ? extends RuntimeException> error) {
        Optional<String> problem = unknownField(object, known, path, source);
        if (problem.isPresent()) throw error.apply(problem.get());
    }

    /** Throws an {@link IllegalArgumentException} for the first unknown field of {@code object}. */
    public static void checkFields(JsonNode object, Collection<String> known, String path, String source) {
        checkFields(object, known, path, source, IllegalArgumentException::new);
    }

    /** A value as an error message quotes it: its JSON, cut short, and what kind of value it is. */
    public static String shown(JsonNode v) {
        if (v == null) return "nothing";
        String json = v.toString();
        if (json.length() > 40) json = json.substring(0, 37) + "...";
        String kind = v.isTextual() ? "a string" : v.isNumber() ? "a number" : v.isBoolean() ? "a boolean"
                : v.isArray() ? "an array" : v.isObject() ? "an object" : "null";
        return v.isNull() ? "null" : json + " (" + kind + ")";
    }

    private static int commonPrefix(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) i++;
        return i;
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
