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
        assertTrue(e.getMessage().contains("cold, vanilla, cached, reap, faasnap, warm"));
    }
}
