package dev.thaw.common;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class StrictJsonTest {
    private static final List<String> SPEC = List.of("name", "runtime", "memory_mib", "vcpus", "timeout_s", "inputs",
            "record", "restore", "min_warm");

    @Test
    void guessesTyposSwapsAndPrefixes() {
        assertEquals(Optional.of("min_warm"), StrictJson.suggest("min_wram", SPEC));  // two letters swapped
        assertEquals(Optional.of("memory_mib"), StrictJson.suggest("memory_mb", SPEC));  // one left out
        assertEquals(Optional.of("timeout_s"), StrictJson.suggest("Timeout_S", SPEC));  // case
        assertEquals(Optional.of("memory_mib"), StrictJson.suggest("memory", SPEC));  // a prefix
        assertEquals(Optional.of("modes"), StrictJson.suggest("mode", List.of("modes", "runs")));
        assertEquals(Optional.of("restore"), StrictJson.suggest("restroe", SPEC));
        assertEquals(Optional.of("speed"), StrictJson.suggest("sped", List.of("seed", "speed")));  // a tie: the same start wins
    }

    @Test
    void makesNoWildGuess() {
        assertEquals(Optional.empty(), StrictJson.suggest("colour", SPEC));
        assertEquals(Optional.empty(), StrictJson.suggest("x", SPEC));
        assertEquals(Optional.empty(), StrictJson.suggest("anything", List.of()));
    }

    @Test
    void distanceCountsASwapAsOneEdit() {
        assertEquals(0, StrictJson.distance("abc", "abc"));
        assertEquals(1, StrictJson.distance("abc", "acb"));
        assertEquals(1, StrictJson.distance("abc", "abcd"));
        assertEquals(3, StrictJson.distance("kitten", "sitting"));
        assertEquals(3, StrictJson.distance("", "abc"));
    }

    @Test
    void unknownFieldIsWordedTheSameEverywhere() {
        var obj = Json.parse("{\"name\": \"f\", \"min_wram\": 1}");
        assertEquals(Optional.of("unknown field \"min_wram\" in function.json; did you mean \"min_warm\"?"),
                StrictJson.unknownField(obj, SPEC, "", "function.json"));
        var inputs = Json.parse("{\"recrod\": {}}");
        assertEquals("unknown field \"inputs.recrod\" in f.json; did you mean \"inputs.record\"?",
                assertThrows(IllegalArgumentException.class,
                        () -> StrictJson.checkFields(inputs, List.of("record", "test"), "inputs.", "f.json")).getMessage());
        var far = Json.parse("{\"colour\": 1}");
        assertEquals(Optional.of("unknown field \"colour\" in a.json; expected one of order"),
                StrictJson.unknownField(far, List.of("order"), "", "a.json"));
        assertEquals(Optional.empty(), StrictJson.unknownField(Json.parse("{\"order\": []}"), List.of("order"), "", "a.json"));
    }

    @Test
    void showsValuesWithTheirKind() {
        assertEquals("\"big\" (a string)", StrictJson.shown(Json.parse("\"big\"")));
        assertEquals("1.5 (a number)", StrictJson.shown(Json.parse("1.5")));
        assertEquals("null", StrictJson.shown(Json.parse("null")));
        assertEquals("nothing", StrictJson.shown(null));
        assertTrue(StrictJson.shown(Json.parse("[" + "1,".repeat(50) + "1]")).endsWith("... (an array)"));
    }
}
