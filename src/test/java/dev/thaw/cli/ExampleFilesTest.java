package dev.thaw.cli;

import dev.thaw.bench.Scenario;
import dev.thaw.platform.FunctionSpec;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every JSON file the repository ships for users to copy still parses under the strict parsers:
 * a field renamed in a parser but not in an example fails here, not in a user's hands.
 */
class ExampleFilesTest {
    private static final Path REPO = Path.of(System.getProperty("user.dir"));

    /** Files matching {@code glob} below {@code dir} (relative to the repository), at least one. */
    private static List<Path> files(String dir, String glob) throws IOException {
        var matcher = REPO.getFileSystem().getPathMatcher("glob:" + glob);
        try (Stream<Path> s = Files.walk(REPO.resolve(dir), 3)) {
            List<Path> found = s.filter(p -> matcher.matches(REPO.resolve(dir).relativize(p))).sorted().toList();
            assertFalse(found.isEmpty(), "no " + glob + " under " + dir);
            return found;
        }
    }

    @Test
    void functionJsonFilesParse() throws IOException {
        List<Path> specs = Stream.concat(files("functions", "*/function.json").stream(), files("apps", "*/*/function.json").stream()).toList();
        for (Path f : specs) {
            FunctionSpec spec = FunctionSpec.parse(Files.readString(f), f.toString());
            assertEquals(f.getParent().getFileName().toString(), spec.name(), f + ": name and directory differ");
            assertTrue(spec.inputs().has("record") && spec.inputs().has("test"), f + " lacks an input");
        }
    }

    @Test
    void appsParse() throws IOException {
        for (Path appJson : files("apps", "*/app.json")) {
            assertFalse(AppCommand.plan(appJson.getParent()).isEmpty(), appJson.toString());
        }
    }

    @Test
    void benchScenariosParse() throws IOException {
        for (Path f : files("examples/bench", "*.json")) {
            assertFalse(Scenario.parse(f).experiments().isEmpty(), f.toString());
        }
    }

    @Test
    void loadWorkloadsParse() throws IOException {
        for (Path f : files("examples/load", "*.json")) {
            // The workload parser is the load package's own; a dry run goes through it and sends nothing.
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream before = System.err;
            int rc;
            try {
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                rc = Main.run("load", f.toString(), "--dry-run", "--target", "http://127.0.0.1:9");
            } finally {
                System.setErr(before);
            }
            assertEquals(0, rc, f + ": " + err.toString(StandardCharsets.UTF_8));
        }
    }
}
