package dev.thaw.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class AppCommandTest {
    static final Path APPS = Path.of(System.getProperty("user.dir"), "apps");

    @TempDir
    Path tmp;

    private Path function(Path app, String dir, String name) throws IOException {
        Path d = Files.createDirectories(app.resolve(dir));
        Files.writeString(d.resolve("function.json"), "{\"name\": \"" + name + "\", \"runtime\": \"python3\"}");
        Files.writeString(d.resolve("handler.py"), "def handle(event):\n    return {}\n");
        return d;
    }

    private static List<String> names(List<AppCommand.Function> plan) {
        return plan.stream().map(AppCommand.Function::name).toList();
    }

    @Test
    void ordersFunctionsAsAppJsonSays() throws IOException {
        function(tmp, "a", "fa");
        function(tmp, "b", "fb");
        function(tmp, "c", "fc");
        Files.createDirectories(tmp.resolve("notes")); // no function.json: not a function
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"c\", \"a\", \"b\"]}");
        assertEquals(List.of("fc", "fa", "fb"), names(AppCommand.plan(tmp)));
    }

    @Test
    void withoutAppJsonTheOrderIsAlphabetical() throws IOException {
        function(tmp, "b", "fb");
        function(tmp, "a", "fa");
        assertEquals(List.of("fa", "fb"), names(AppCommand.plan(tmp)));
    }

    @Test
    void appJsonMustPlaceEveryFunctionOnceAndOnlyFunctions() throws IOException {
        function(tmp, "a", "fa");
        function(tmp, "b", "fb");
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"a\"]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .endsWith("field \"order\" in " + tmp.resolve("app.json") + " does not place b"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"a\", \"b\", \"z\"]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("field \"order[2]\" in " + tmp.resolve("app.json") + " names z, which is not a function directory"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"a\", \"b\", \"a\"]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("names a twice"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": \"a b\"}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("field \"order\" in " + tmp.resolve("app.json") + " must be an array of function directory names, got \"a b\" (a string)"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("app.json: not valid JSON"));
    }

    @Test
    void badDirectoriesAreNamed() throws IOException {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("holds no function directories"));
        function(tmp, "a", "same");
        function(tmp, "b", "same");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .endsWith("both define function same"));
        Files.writeString(tmp.resolve("b/function.json"), "{\"name\": \"Bad Name\"}");
        String msg = assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage();
        assertTrue(msg.contains("field \"name\" in " + tmp.resolve("b/function.json")) && msg.contains("must be a function name matching"), msg);
    }

    @Test
    void appJsonIsReadStrictly() throws IOException {
        function(tmp, "ingest", "fa");
        function(tmp, "store", "fb");
        String appJson = tmp.resolve("app.json").toString();
        Files.writeString(tmp.resolve("app.json"), "{\"oder\": [\"store\", \"ingest\"]}");
        assertEquals("unknown field \"oder\" in " + appJson + "; did you mean \"order\"?",
                assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage());
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"store\", 7]}");
        assertEquals("field \"order[1]\" in " + appJson + " must be a function directory name, got 7 (a number)",
                assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage());
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"store\", \"ingset\"]}");
        String msg = assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage();
        assertTrue(msg.endsWith("names ingset, which is not a function directory of " + tmp + "; did you mean \"ingest\"?"), msg);
        Files.writeString(tmp.resolve("app.json"), "[\"store\", \"ingest\"]");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .startsWith(appJson + " must be a JSON object"));
        Files.writeString(tmp.resolve("app.json"), "{}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("field \"order\" in " + appJson + " must be an array of function directory names, got nothing"));
    }

    @Test
    void aFunctionJsonWithAnUnknownFieldStopsThePlan() throws IOException {
        function(tmp, "a", "fa");
        Files.writeString(tmp.resolve("a/function.json"), "{\"name\": \"fa\", \"min_wram\": 1}");
        assertEquals("unknown field \"min_wram\" in " + tmp.resolve("a/function.json") + "; did you mean \"min_warm\"?",
                assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage());
    }

    /** The shipped apps deploy callees first: every thaw.invoke target comes earlier in app.json. */
    @Test
    void shippedAppsDeployCalleesBeforeCallers() throws IOException {
        Pattern call = Pattern.compile("thaw\\.invoke(?:_async)?\\(\\s*\"([a-z0-9_-]+)\"");
        List<Path> apps;
        try (Stream<Path> s = Files.list(APPS)) {
            apps = s.filter(Files::isDirectory).sorted().toList();
        }
        assertEquals(List.of("chain", "mapreduce", "pipeline"), apps.stream().map(p -> p.getFileName().toString()).toList());
        for (Path app : apps) {
            List<String> order = names(AppCommand.plan(app));
            int calls = 0;
            for (AppCommand.Function f : AppCommand.plan(app)) {
                Matcher m = call.matcher(Files.readString(f.dir().resolve("handler.py")));
                while (m.find()) {
                    calls++;
                    assertTrue(order.indexOf(m.group(1)) >= 0 && order.indexOf(m.group(1)) < order.indexOf(f.name()),
                            app + ": " + f.name() + " calls " + m.group(1) + ", which must be deployed before it: " + order);
                }
            }
            assertTrue(calls > 0, app + " has calls between its functions");
        }
    }

    @Test
    void deployPutsEveryFunctionInOrderAndStopsAtTheFirstFailure() throws IOException {
        function(tmp, "a", "fa");
        function(tmp, "b", "fb");
        function(tmp, "c", "fc");
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"b\", \"c\", \"a\"]}");
        List<String> puts = Collections.synchronizedList(new ArrayList<>());
        HttpServer daemon = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        daemon.createContext("/functions/", ex -> {
            JsonNode body = Json.parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            String name = ex.getRequestURI().getPath().substring("/functions/".length());
            puts.add(ex.getRequestMethod() + " " + name + " " + Path.of(body.path("path").asText()).getFileName());
            boolean fail = name.equals("fa");
            byte[] answer = (fail ? "{\"error\": {\"code\": \"deploy_failed\", \"message\": \"warm-up fa failed\"}}"
                    : "{\"name\": \"" + name + "\", \"snapshot\": {\"snapshotId\": \"s-" + name + "\"}}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(fail ? 400 : 201, answer.length);
            ex.getResponseBody().write(answer);
            ex.close();
        });
        daemon.start();
        try {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                    .execute("app", "deploy", tmp.toString(), "--daemon", "http://127.0.0.1:" + daemon.getAddress().getPort());
            assertEquals(List.of("PUT fb b", "PUT fc c", "PUT fa a"), puts);
            assertEquals(1, exit, err.toString());
            assertTrue(out.toString().contains("deploying 3 functions: fb -> fc -> fa"), out.toString());
            assertTrue(out.toString().contains("(snapshot s-fc)"), out.toString());
            assertTrue(err.toString().contains("fa failed") && err.toString().contains("warm-up fa failed")
                    && err.toString().contains("deployed before it: fb, fc"), err.toString());
        } finally {
            daemon.stop(0);
        }
    }
}
