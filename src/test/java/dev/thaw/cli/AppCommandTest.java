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
                .endsWith("app.json: \"order\" does not place b"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"a\", \"b\", \"z\"]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("\"order\" names z, which is not a function directory"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": [\"a\", \"b\", \"a\"]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("names a twice"));
        Files.writeString(tmp.resolve("app.json"), "{\"order\": \"a b\"}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AppCommand.plan(tmp)).getMessage()
                .contains("\"order\" must be an array"));
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
        assertTrue(msg.startsWith(tmp.resolve("b/function.json").toString()) && msg.contains("function name must match"), msg);
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
