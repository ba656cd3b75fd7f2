package dev.thaw.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.thaw.common.Json;
import dev.thaw.flow.DotGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code thaw flow} end to end, through the root command as the launcher runs it. */
class FlowCommandTest {
    private static final Path FIXTURES = Path.of("src/test/resources/flow/fixtures");

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(prepend("flow", args));
        return new Run(exit, out.toString(), err.toString());
    }

    private static String[] prepend(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Test
    void analysesAZipkinFileAsJson() {
        Run r = run(FIXTURES.resolve("zipkin-upload.json").toString(), "--format", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = Json.parse(r.out());
        JsonNode path = json.at("/traces/0/critical_path");
        assertEquals(8, path.size());
        assertEquals("notify", path.get(7).get("function").asText());
        assertEquals(1_700_000_000_200_000L, path.get(7).get("end_us").asLong());
        assertEquals(3, json.get("edges").size());
    }

    @Test
    void asyncClipOptionIsHonoured() {
        Run r = run(FIXTURES.resolve("zipkin-upload.json").toString(), "--format", "JSON", "--async", "clip");
        assertEquals(0, r.exit(), r.err());
        assertEquals(150_000, Json.parse(r.out()).at("/traces/0/duration_us").asLong());
    }

    @Test
    void textIsTheDefault() {
        Run r = run(FIXTURES.resolve("thaw-sample.json").toString(), "--top", "3", "--traces", "0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("thaw flow: 30 traces"), r.out());
        assertTrue(r.out().contains("restore index ahead, as soon as gateway is invoked"), r.out());
    }

    @Test
    void writesTheReportToAFile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("flow.html");
        Run r = run(FIXTURES.resolve("thaw-sample.json").toString(), "--format", "html", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().contains("wrote " + out), r.err());
        assertTrue(Files.readString(out).contains("<svg"));
    }

    @Test
    void dotFormat() {
        Run r = run(FIXTURES.resolve("jaeger-ui-test3.json").toString(), "--format", "dot");
        assertEquals(0, r.exit(), r.err());
        DotGraph graph = DotGraph.parse(r.out());
        assertEquals(List.of("service-one->service-two"), new ArrayList<>(graph.edges));
    }

    @Test
    void functionFilterAndLimit() {
        Path sample = FIXTURES.resolve("thaw-sample.json");
        Run limited = run(sample.toString(), "--limit", "4", "--format", "json");
        assertEquals(4, Json.parse(limited.out()).at("/summary/traces").asInt());
        Run none = run(FIXTURES.resolve("zipkin-upload.json").toString(), "--function", "nope");
        assertEquals(1, none.exit());
        assertEquals("flow: no trace contains function nope\n", none.err());
    }

    @Test
    void mergesFilesAndReportsOrphans(@TempDir Path dir) throws IOException {
        // Two halves of one trace, exported by two services; the second half's parent is missing.
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        Files.writeString(a, """
                [{"traceId": "t", "id": "1", "timestamp": 0, "duration": 100, "localEndpoint": {"serviceName": "web"}}]""");
        Files.writeString(b, """
                [{"traceId": "t", "id": "2", "parentId": "1", "timestamp": 10, "duration": 50, "localEndpoint": {"serviceName": "api"}},
                 {"traceId": "t", "id": "3", "parentId": "9", "timestamp": 20, "duration": 10, "localEndpoint": {"serviceName": "db"}}]""");
        Run r = run(a.toString(), b.toString(), "--format", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = Json.parse(r.out());
        assertEquals(1, json.at("/summary/traces").asInt());
        assertEquals("web", json.at("/edges/0/caller").asText());
        assertEquals(1, json.get("warnings").size());
        assertTrue(json.at("/warnings/0").asText().contains("parent 9 that is not in the trace"));
        Run text = run(a.toString(), b.toString());
        assertTrue(text.out().contains("Warnings (1)"), text.out());
    }

    @Test
    void malformedFileFailsNamingFileAndProblem(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("traces.json");
        Files.writeString(bad, """
                {"data": [{"traceID": "t", "processes": {"p": {"serviceName": "f"}}, "spans": [
                  {"traceID": "t", "spanID": "a", "startTime": 1, "duration": 1, "processID": "p"},
                  {"traceID": "t", "spanID": "b", "startTime": 1, "duration": 1, "processID": "p"},
                  {"traceID": "t", "spanID": "c", "startTime": 1, "duration": 1, "processID": "p"},
                  {"spanID": "d", "startTime": 1, "duration": 1, "processID": "p"}]}]}""");
        Run r = run(bad.toString());
        assertEquals(1, r.exit());
        assertEquals("flow: traces.json: span 3 has no traceID\n", r.err());
        assertEquals("", r.out());
        Run missing = run(dir.resolve("nope.json").toString());
        assertEquals(1, missing.exit());
        assertEquals("flow: " + dir.resolve("nope.json") + ": no such file\n", missing.err());
    }

    @Test
    void usageErrors() {
        Run none = run();
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("give trace files or --daemon URL"), none.err());
        assertEquals(2, run("x.json", "--format", "pdf").exit());
        assertEquals(2, run("x.json", "--since", "10m").exit());
        assertEquals(2, run("x.json", "--top", "0").exit());
    }

    @Test
    void helpDocumentsEveryOption() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        for (String option : List.of("--daemon", "--format", "--out", "--function", "--since", "--limit", "--async",
                "--top", "--traces")) {
            assertTrue(r.out().contains(option), option);
        }
    }

    @Test
    void fetchesFromTheDaemon() throws IOException {
        String body = Files.readString(FIXTURES.resolve("thaw-sample.json"));
        List<String> queries = new ArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/traces", exchange -> {
            queries.add(exchange.getRequestURI().getRawQuery());
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.createContext("/broken", exchange -> {
            byte[] bytes = "{\"error\": \"store offline\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(503, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            Run r = run("--daemon", url + "/", "--limit", "7", "--function", "resize", "--since", "10 m", "--format", "json");
            assertEquals(0, r.exit(), r.err());
            assertEquals(List.of("limit=7&function=resize&since=10+m"), queries);
            // The daemon returned more than asked; --limit still applies.
            assertEquals(7, Json.parse(r.out()).at("/summary/traces").asInt());

            Run failed = run("--daemon", url + "/broken");
            assertEquals(1, failed.exit());
            assertEquals("flow: GET " + url + "/broken/traces?limit=100: HTTP 503: store offline\n", failed.err());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void daemonErrorsAreClear() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there now
        }
        Run r = run("--daemon", "http://127.0.0.1:" + port);
        assertEquals(1, r.exit());
        assertEquals("flow: cannot reach the daemon at http://127.0.0.1:" + port + ": connection refused\n", r.err());
    }
}
