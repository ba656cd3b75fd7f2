package dev.thaw.api;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code thaw serve --functions-root DIR}: deploy by path reads only below DIR, links resolved first. */
class FunctionsRootTest {
    final ApiFixture api = ApiFixture.withFunctionsRoot();

    @AfterEach
    void close() {
        api.close();
    }

    ApiFixture.Answer deploy(String name, Path dir) {
        return api.put("/functions/" + name, "application/json", ("{\"path\": \"" + dir + "\"}").getBytes());
    }

    @Test
    void aDirectoryUnderTheRootDeploys() {
        Path dir = api.fake.functionDir("inside", "{\"name\": \"inside\", \"record\": false}");
        assertEquals(201, deploy("inside", dir).status());
    }

    @Test
    void aDirectoryElsewhereIsRefused() throws Exception {
        Path outside = Files.createTempDirectory("thaw-outside-");
        try {
            Files.writeString(outside.resolve("function.json"), "{\"name\": \"outside\"}");
            Files.writeString(outside.resolve("handler.py"), "def handle(e):\n    return e\n");
            ApiFixture.Answer a = deploy("outside", outside);
            assertEquals(403, a.status(), a.toString());
            assertEquals("path_not_allowed", a.errorCode());
            // A link under the root that points outside it is resolved first, so it is refused too.
            Path link = Files.createSymbolicLink(api.fake.root.resolve("src").resolve("sneaky"), outside);
            assertEquals(403, deploy("outside", link).status());
            assertTrue(api.fake.platform.functions().isEmpty());
        } finally {
            dev.thaw.common.FileTrees.delete(outside);
        }
    }
}
