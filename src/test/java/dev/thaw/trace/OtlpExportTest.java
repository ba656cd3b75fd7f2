package dev.thaw.trace;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** With an OTLP endpoint configured, spans leave the daemon over HTTP to that endpoint (a loopback collector here). */
class OtlpExportTest {
    record Received(String path, String contentType, byte[] body) {}

    @Test
    void spansArePostedToTheConfiguredEndpoint() throws Exception {
        BlockingQueue<Received> received = new LinkedBlockingQueue<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/", ex -> {
            received.add(new Received(ex.getRequestURI().getPath(), ex.getRequestHeaders().getFirst("Content-Type"),
                    ex.getRequestBody().readAllBytes()));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        collector.start();
        try {
            String endpoint = "http://127.0.0.1:" + collector.getAddress().getPort() + "/v1/traces";
            try (Tracing tracing = new Tracing(10, endpoint)) {
                tracing.tracer().spanBuilder("invoke exported-fn")
                        .setAttribute(TraceStore.FUNCTION, "exported-fn").startSpan().end();
            } // closing flushes the batch processor
            Received r = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(r, "the collector received an export");
            assertEquals("/v1/traces", r.path());
            assertEquals("application/x-protobuf", r.contentType());
            // The protobuf body carries the span name and the function attribute as plain strings.
            String body = new String(r.body(), StandardCharsets.ISO_8859_1);
            assertTrue(body.contains("invoke exported-fn"), "span name in the export");
            assertTrue(body.contains("thaw.function"), "attributes in the export");
        } finally {
            collector.stop(0);
        }
    }

    @Test
    void withoutAnEndpointSpansStayInMemoryOnly() {
        try (Tracing tracing = new Tracing(10, null)) {
            tracing.tracer().spanBuilder("invoke local").setAttribute(TraceStore.FUNCTION, "local").startSpan().end();
            assertEquals(1, tracing.store().query("local", 0, 10).size());
        }
    }
}
