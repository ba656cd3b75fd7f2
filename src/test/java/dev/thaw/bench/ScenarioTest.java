package dev.thaw.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ScenarioTest {
    private static Scenario parse(String json) {
        return Scenario.parse(json, "s.json", "s");
    }

    private static String error(String json) {
        return assertThrows(IllegalArgumentException.class, () -> parse(json)).getMessage();
    }

    @Test
    void singleExperimentFileWithDefaults() {
        Scenario s = parse("""
                {"functions": ["hello", "json"], "modes": ["cold", "vanilla", "warm"]}""");
        assertEquals("s", s.name());
        Scenario.Experiment e = s.experiments().getFirst();
        assertEquals("s", e.name());
        assertEquals(List.of("hello", "json"), e.functions());
        assertEquals(List.of("test"), e.inputs());
        assertEquals(5, e.runs());
        assertEquals(List.of(1), e.parallelism());
        assertTrue(e.dropCache());
        assertEquals(2 * 3 * 5, s.plannedRuns());
    }

    @Test
    void experimentsInheritTopLevelFieldsAndOverrideThem() {
        Scenario s = parse("""
                {"name": "mix", "runs": 3, "input": ["record", "test"], "modes": ["vanilla"], "functions": ["hello"],
                 "experiments": [
                   {"name": "a"},
                   {"name": "b", "functions": "all", "input": "record", "parallelism": [1, 2, 4], "drop_cache": false, "runs": 2}
                 ]}""");
        assertEquals("mix", s.name());
        Scenario.Experiment a = s.experiments().get(0), b = s.experiments().get(1);
        assertEquals(List.of("record", "test"), a.inputs());
        assertEquals(3, a.runs());
        assertEquals(List.of(Scenario.ALL), b.functions());
        assertEquals(List.of("record"), b.inputs());
        assertEquals(List.of(1, 2, 4), b.parallelism());
        assertFalse(b.dropCache());
        assertEquals(2 * 3, a.plannedRuns());
        assertEquals(2 * (1 + 2 + 4), b.plannedInvocations());
    }

    @Test
    void warmAndCachedNeverDropTheCache() {
        Scenario.Experiment e = parse("""
                {"functions": ["hello"], "modes": ["cold", "vanilla", "cached", "reap", "faasnap", "warm"]}""").experiments().getFirst();
        assertTrue(e.dropsCacheFor("cold"));
        assertTrue(e.dropsCacheFor("vanilla"));
        assertTrue(e.dropsCacheFor("reap"));
        assertTrue(e.dropsCacheFor("faasnap"));
        assertFalse(e.dropsCacheFor("cached"));
        assertFalse(e.dropsCacheFor("warm"));
        Scenario.Experiment kept = parse("""
                {"functions": ["hello"], "modes": ["vanilla"], "drop_cache": false}""").experiments().getFirst();
        assertFalse(kept.dropsCacheFor("vanilla"));
    }

    @Test
    void errorsNameTheFileAndTheField() {
        assertEquals("scenario s.json: experiments[1].modes[1]: unknown mode \"fasnap\"; expected one of cold, vanilla, cached, reap, reap-cache, faasnap, faasnap-sparse, uffd, thaw, warm",
                error("""
                        {"functions": ["hello"], "experiments": [{"modes": ["warm"]}, {"modes": ["reap", "fasnap"]}]}"""));
        assertTrue(error("""
                {"functions": ["hello"], "modes": ["warm"], "runs": 0}""").startsWith("scenario s.json: runs: must be a whole number of at least 1"));
        assertTrue(error("""
                {"functions": ["hello"], "modes": ["warm"], "parallelism": [1, 0]}""").startsWith("scenario s.json: parallelism[1]: must be a whole number from 1 to 64"));
        assertTrue(error("""
                {"functions": ["hello"], "modes": ["warm"], "input": "prod"}""").startsWith("scenario s.json: input: unknown input \"prod\""));
        assertTrue(error("""
                {"functions": ["Hello World"], "modes": ["warm"]}""").startsWith("scenario s.json: functions[0]: \"Hello World\" is not a function name"));
        assertTrue(error("""
                {"modes": ["warm"]}""").startsWith("scenario s.json: functions: is required"));
        assertTrue(error("""
                {"functions": ["hello"], "experiments": [{"name": "x"}]}""").startsWith("scenario s.json: experiments[0].modes: is required"));
        assertTrue(error("""
                {"functions": ["hello"], "mode": ["warm"]}""").startsWith("scenario s.json: mode: unknown field (did you mean \"modes\"?)"));
        assertTrue(error("""
                {"functions": ["hello"], "modes": ["warm"], "drop_cache": "yes"}""").startsWith("scenario s.json: drop_cache: must be true or false"));
        assertTrue(error("""
                {"functions": ["hello"], "modes": ["warm", "warm"]}""").startsWith("scenario s.json: modes[1]: \"warm\" is listed twice"));
        assertTrue(error("""
                {"functions": ["hello"], "modes": ["warm"], "experiments": [{"name": "a"}, {"name": "a"}]}""")
                .startsWith("scenario s.json: experiments[1].name: \"a\" is used by an earlier experiment"));
        assertTrue(error("[1, 2]").startsWith("scenario s.json: (top level): must be a JSON object"));
        assertTrue(error("{\"functions\": [").startsWith("scenario s.json: malformed JSON"));
    }

    @Test
    void parseFileNamesTheScenarioAfterTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("small.json");
        Files.writeString(f, "{\"functions\": [\"hello\"], \"modes\": [\"warm\"], \"runs\": 1}");
        assertEquals("small", Scenario.parse(f).name());
        String missing = assertThrows(IllegalArgumentException.class, () -> Scenario.parse(dir.resolve("nope.json"))).getMessage();
        assertEquals("scenario " + dir.resolve("nope.json") + ": no such file", missing);
    }

    @Test
    void allExpandsToEveryFunctionDirectory(@TempDir Path dir) throws IOException {
        for (String f : List.of("json", "hello")) {
            Files.createDirectories(dir.resolve(f));
            Files.writeString(dir.resolve(f).resolve("function.json"), "{}");
        }
        Files.createDirectories(dir.resolve("not-a-function"));
        Scenario s = parse("{\"functions\": \"all\", \"modes\": [\"warm\"]}").resolve(dir);
        assertEquals(List.of("hello", "json"), s.experiments().getFirst().functions());
        assertEquals(List.of("hello", "json"), s.functions());
    }

    @Test
    void paperScenarioMirrorsThePapers() {
        Scenario s = Scenario.paper(List.of(), 5, "hello");
        Scenario.Experiment modes = s.experiments().get(0), conc = s.experiments().get(1);
        assertEquals(List.of(Scenario.ALL), modes.functions());
        assertEquals(List.of("cold", "vanilla", "cached", "reap", "reap-cache", "faasnap", "faasnap-sparse", "uffd", "thaw", "warm"), modes.modes());
        assertEquals(List.of("test"), modes.inputs());
        assertEquals(5, modes.runs());
        assertEquals(List.of("hello"), conc.functions());
        assertEquals(List.of("vanilla", "faasnap"), conc.modes());
        assertEquals(List.of(1, 2, 4, 8), conc.parallelism());
        assertEquals(List.of("json", "pyaes"), Scenario.paper(List.of("json", "pyaes"), 7, "json").experiments().get(0).functions());
        assertThrows(IllegalArgumentException.class, () -> Scenario.paper(List.of(), 0, "hello"));
        assertThrows(IllegalArgumentException.class, () -> Scenario.paper(List.of("a b"), 5, "hello"));
    }
}
