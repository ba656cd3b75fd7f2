package dev.thaw.platform;

import dev.thaw.model.Mode;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class FunctionSpecTest {
    @Test
    void defaultsAndInputs() {
        FunctionSpec s = FunctionSpec.parse("{\"name\":\"f1\",\"inputs\":{\"record\":{\"n\":1}}}");
        assertEquals(256, s.memoryMib());
        assertEquals(1, s.vcpus());
        assertEquals(1, s.warmupEvent().path("n").asInt());
        assertEquals(Mode.THAW, s.restore(), "a warm miss restores with thaw (pooled VMM + userfaultfd) unless the function says otherwise");
    }

    @Test
    void badFieldsAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionSpec.parse("{\"name\":\"Bad Name\"}"))
                .getMessage().contains("function name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionSpec.parse("{\"name\":\"f\",\"memory_mib\":1}"))
                .getMessage().contains("memory_mib"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionSpec.parse("{\"name\":\"f\",\"runtime\":\"node\"}"))
                .getMessage().contains("runtime"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionSpec.parse("[1]")).getMessage().contains("object"));
    }

    private static String error(String json) {
        return assertThrows(IllegalArgumentException.class, () -> FunctionSpec.parse(json)).getMessage();
    }

    @Test
    void everyFieldIsRead() {
        FunctionSpec s = FunctionSpec.parse("""
                {"name": "f", "runtime": "python3", "memory_mib": 512, "vcpus": 2, "timeout_s": 90,
                 "inputs": {"record": {"n": 1}, "test": {"n": 2}}, "record": false, "restore": "reap", "min_warm": 3}""");
        assertEquals(new FunctionSpec("f", "python3", 512, 2, 90, s.inputs(), false, Mode.REAP, 3, java.util.List.of(), null), s);
        assertEquals(2, s.inputs().path("test").path("n").asInt());
        assertEquals(s, FunctionSpec.parse(s.toJson().toString()), "what toJson writes parses back");
    }

    @Test
    void unknownFieldsAreNamedWithAGuess() {
        assertEquals("unknown field \"min_wram\" in function.json; did you mean \"min_warm\"?",
                error("{\"name\": \"f\", \"min_wram\": 1}"));
        assertEquals("unknown field \"inputs.recrod\" in function.json; did you mean \"inputs.record\"?",
                error("{\"name\": \"f\", \"inputs\": {\"recrod\": {}}}"));
        assertTrue(error("{\"name\": \"f\", \"colour\": \"red\"}").startsWith("unknown field \"colour\" in function.json; expected one of "));
        String withPath = assertThrows(IllegalArgumentException.class,
                () -> FunctionSpec.parse("{\"name\": \"f\", \"memory\": 1}", "functions/f/function.json")).getMessage();
        assertEquals("unknown field \"memory\" in functions/f/function.json; did you mean \"memory_mib\"?", withPath);
    }

    @Test
    void primeIsOnByDefaultAndAFunctionCanRefuseIt() {
        assertTrue(FunctionSpec.parse("{\"name\": \"f\"}").prime());
        FunctionSpec off = FunctionSpec.parse("{\"name\": \"f\", \"prime\": false}");
        assertEquals(false, off.prime());
        assertEquals(off, FunctionSpec.parse(off.toJson().toString()), "prime: false survives toJson");
        assertEquals("field \"prime\" in function.json must be true or false, got \"no\" (a string)",
                error("{\"name\": \"f\", \"prime\": \"no\"}"));
        assertEquals("unknown field \"priem\" in function.json; did you mean \"prime\"?", error("{\"name\": \"f\", \"priem\": false}"));
    }

    @Test
    void thePrimingEventIsTheRecordInputElseTheTestInputElseEmpty() {
        assertEquals(1, FunctionSpec.parse("{\"name\": \"f\", \"inputs\": {\"record\": {\"n\": 1}, \"test\": {\"n\": 2}}}")
                .primeEvent().path("n").asInt());
        assertEquals(2, FunctionSpec.parse("{\"name\": \"f\", \"inputs\": {\"test\": {\"n\": 2}}}").primeEvent().path("n").asInt());
        assertEquals(0, FunctionSpec.parse("{\"name\": \"f\"}").primeEvent().size());
    }

    @Test
    void wrongTypesAreErrorsNotDefaults() {
        assertEquals("field \"memory_mib\" in function.json must be a whole number from 128 to 8192, got \"big\" (a string)",
                error("{\"name\": \"f\", \"memory_mib\": \"big\"}"));
        assertEquals("field \"vcpus\" in function.json must be a whole number from 1 to 8, got 1.5 (a number)",
                error("{\"name\": \"f\", \"vcpus\": 1.5}"));
        assertEquals("field \"record\" in function.json must be true or false, got \"no\" (a string)",
                error("{\"name\": \"f\", \"record\": \"no\"}"));
        assertEquals("field \"inputs\" in function.json must be an object such as {\"record\": {...}, \"test\": {...}}, got [] (an array)",
                error("{\"name\": \"f\", \"inputs\": []}"));
        assertEquals("field \"inputs.test\" in function.json must be an object (the event sent to the handler), got 3 (a number)",
                error("{\"name\": \"f\", \"inputs\": {\"test\": 3}}"));
        assertEquals("field \"name\" in function.json must be a function name matching [a-z0-9][a-z0-9_-]{0,62}, got 7 (a number)",
                error("{\"name\": 7}"));
        assertEquals("field \"timeout_s\" in function.json must be a whole number from 1 to 3600, got null",
                error("{\"name\": \"f\", \"timeout_s\": null}"));
        assertTrue(error("{}").startsWith("field \"name\" in function.json is required"));
    }

    @Test
    void outOfRangeValuesAreNamed() {
        assertEquals("field \"memory_mib\" in function.json must be a whole number from 128 to 8192, got 100000 (a number)",
                error("{\"name\": \"f\", \"memory_mib\": 100000}"));
        assertEquals("field \"min_warm\" in function.json must be a whole number from 0 to 64, got -1 (a number)",
                error("{\"name\": \"f\", \"min_warm\": -1}"));
        assertEquals("field \"memory_mib\" in function.json must be a whole number from 128 to 8192, got 99999999999 (a number)",
                error("{\"name\": \"f\", \"memory_mib\": 99999999999}"));
        assertEquals("field \"restore\" in function.json must be one of vanilla, reap, reap-cache, faasnap, faasnap-sparse, uffd, thaw, got \"fasnap\"; did you mean \"faasnap\"?",
                error("{\"name\": \"f\", \"restore\": \"fasnap\"}"));
        assertEquals("field \"runtime\" in function.json must be one of python3, got \"node\"",
                error("{\"name\": \"f\", \"runtime\": \"node\"}"));
    }

    @Test
    void malformedJsonNamesTheFile() {
        assertTrue(error("{\"name\": ").startsWith("function.json: malformed JSON"));
    }

    @Test
    void bundleFromDirectoryAndTarAgree() throws Exception {
        Path dir = Files.createTempDirectory("fn");
        Files.writeString(dir.resolve("function.json"), "{\"name\":\"hello\"}");
        Files.writeString(dir.resolve("handler.py"), "def handle(e):\n    return {}\n");
        FunctionBundle fromDir = FunctionBundle.fromDirectory(dir);
        FunctionBundle fromTar = FunctionBundle.fromTar(PlatformIT.tar(dir, "hello"));
        assertEquals(fromDir.spec().name(), fromTar.spec().name());
        assertArrayEquals(fromDir.files().get("handler.py"), fromTar.files().get("handler.py"));
    }

    @Test
    void bundleWithoutHandlerIsRejected() throws Exception {
        Path dir = Files.createTempDirectory("fn");
        Files.writeString(dir.resolve("function.json"), "{\"name\":\"x\"}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromDirectory(dir))
                .getMessage().contains("handler.py"));
    }

    @Test
    void modeParsing() {
        assertEquals(Mode.WARM, Mode.parse(null));
        assertEquals(Mode.VANILLA, Mode.parse("Vanilla"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Mode.parse("hot"));
        assertTrue(e.getMessage().contains("cold, vanilla, cached, reap, reap-cache, faasnap, faasnap-sparse, uffd, thaw, warm"));
    }
}
