package dev.thaw.cli;

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
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class InvokeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void eventIsInlineJsonOrAFileAndMustBeAnObject() throws IOException {
        assertEquals(3, InvokeCommand.event("{\"n\": 3}").path("n").asInt());
        Path file = tmp.resolve("event.json");
        Files.writeString(file, "{\"delay_ms\": 500}");
        assertEquals(500, InvokeCommand.event("@" + file).path("delay_ms").asInt());

        assertTrue(assertThrows(IllegalArgumentException.class, () -> InvokeCommand.event("[1, 2]")).getMessage()
                .contains("--data must be a JSON object, got array"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> InvokeCommand.event("{nope")).getMessage()
                .startsWith("--data is not valid JSON"));
        Files.writeString(file, "42");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> InvokeCommand.event("@" + file)).getMessage()
                .startsWith(file + " must be a JSON object"));
        assertTrue(assertThrows(java.io.UncheckedIOException.class, () -> InvokeCommand.event("@" + tmp.resolve("missing.json")))
                .getMessage().contains("missing.json"));
    }

    record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void sendsModeAndEventAndPrintsTheAnswerOrTheHandlersTraceback() throws IOException {
        List<String> requests = new ArrayList<>();
        HttpServer daemon = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        daemon.createContext("/functions/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + Json.parse(body));
            boolean broken = ex.getRequestURI().getPath().contains("broken");
            byte[] answer = (broken
                    ? "{\"error\": {\"code\": \"handler_error\", \"message\": \"broken raised ValueError: bad\", \"traceback\": \"Traceback...\\nValueError: bad\\n\"}}"
                    : "{\"result\": {\"echo\": " + body + "}, \"trace_id\": \"abc\"}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(broken ? 500 : 200, answer.length);
            ex.getResponseBody().write(answer);
            ex.close();
        });
        daemon.start();
        String url = "http://127.0.0.1:" + daemon.getAddress().getPort();
        try {
            Run ok = run("invoke", "pipe-ingest", "--mode", "vanilla", "--data", "{\"delay_ms\": 5}", "--daemon", url);
            assertEquals(0, ok.exit(), ok.err());
            assertEquals("POST /functions/pipe-ingest/invoke?mode=vanilla {\"delay_ms\":5}", requests.get(0));
            assertEquals(5, Json.parse(ok.out()).at("/result/echo/delay_ms").asInt(), ok.out());

            Run failed = run("invoke", "broken", "--daemon", url);
            assertEquals(1, failed.exit());
            assertEquals("POST /functions/broken/invoke?mode=warm {}", requests.get(1));
            assertTrue(failed.err().contains("HTTP 500 handler_error: broken raised ValueError: bad"), failed.err());
            assertTrue(failed.err().contains("Traceback...\nValueError: bad"), failed.err());
        } finally {
            daemon.stop(0);
        }
    }
}
