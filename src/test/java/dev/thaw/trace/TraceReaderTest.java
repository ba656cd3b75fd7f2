package dev.thaw.trace;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceReaderTest {

    private static Map<String, Span> byId(Trace trace) {
        return trace.spans().stream().collect(Collectors.toMap(Span::spanId, Function.identity()));
    }

    @Test
    void readsJaegerQueryApiJson() {
        TraceReader.Result r = TraceReader.read(java.nio.file.Path.of("src/test/resources/flow/fixtures").resolve("jaeger-ui-test3.json"));
        assertEquals(TraceReader.Format.JAEGER, r.format());
        Map<String, Span> spans = byId(r.traces().getFirst());
        Span send = spans.get("006c3cf93508f205");
        Span task = spans.get("2dc4b796e2127e32");
        assertEquals("service-one", send.function());
        assertEquals("service-two", task.function());
        assertEquals("send", send.operation());
        assertNull(send.parentId());
        assertEquals("006c3cf93508f205", task.parentId());
        assertEquals(Span.RefType.CHILD_OF, task.refType());
        assertEquals(200, task.startUs());
        assertEquals(500, task.endUs());
        assertEquals("POST", task.tag("http.method"));
    }

    @Test
    void jaegerPrefersChildOfAndIgnoresReferencesIntoOtherTraces() {
        String json = """
                {"data": [{"traceID": "t1", "processes": {"p": {"serviceName": "fn"}}, "spans": [
                  {"traceID": "t1", "spanID": "a", "operationName": "invoke fn", "startTime": 0, "duration": 10, "processID": "p"},
                  {"traceID": "t1", "spanID": "b", "startTime": 1, "duration": 2, "processID": "p",
                   "references": [{"refType": "FOLLOWS_FROM", "traceID": "t1", "spanID": "x"},
                                  {"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}],
                   "tags": [{"key": "faas.coldstart", "type": "bool", "value": true},
                            {"key": "thaw.coldstart_ms", "type": "float64", "value": 1.5}]},
                  {"traceID": "t1", "spanID": "c", "startTime": 1, "duration": 2, "process": {"serviceName": "inline"},
                   "references": [{"refType": "CHILD_OF", "traceID": "other", "spanID": "zz"},
                                  {"refType": "FOLLOWS_FROM", "traceID": "t1", "spanID": "a"}]}]}]}
                """;
        Map<String, Span> spans = byId(TraceReader.parse("x.json", json).traces().getFirst());
        assertEquals("a", spans.get("b").parentId());
        assertEquals(Span.RefType.CHILD_OF, spans.get("b").refType());
        assertEquals("true", spans.get("b").tag(SpanTags.COLDSTART));
        assertEquals("1.5", spans.get("b").tag(SpanTags.COLDSTART_MS));
        assertEquals("a", spans.get("c").parentId());
        assertEquals(Span.RefType.FOLLOWS_FROM, spans.get("c").refType());
        assertEquals("inline", spans.get("c").function());
    }

    @Test
    void acceptsASingleJaegerTraceObjectAndAnArrayOfThem() {
        String one = """
                {"traceID": "t", "spans": [{"traceID": "t", "spanID": "a", "startTime": 5, "duration": 1,
                  "processID": "p"}], "processes": {"p": {"serviceName": "f"}}}""";
        assertEquals(TraceReader.Format.JAEGER, TraceReader.parse("one", one).format());
        assertEquals(2, TraceReader.parse("two", "[" + one + "," + one.replace("\"t\"", "\"u\"") + "]").traces().size());
    }

    @Test
    void readsZipkinV2AndSplitsSharedClientServerSpans() {
        TraceReader.Result r = TraceReader.read(java.nio.file.Path.of("src/test/resources/flow/fixtures").resolve("zipkin-upload.json"));
        assertEquals(TraceReader.Format.ZIPKIN, r.format());
        assertEquals(1, r.traces().size());
        Map<String, Span> spans = byId(r.traces().getFirst());
        assertEquals(8, spans.size());
        Span client = spans.get("6b221d5bc9e6496c");
        Span server = spans.get("6b221d5bc9e6496c:server");
        assertEquals("frontend", client.function());
        assertEquals("client", client.tag("span.kind"));
        assertEquals("resize", server.function());
        assertEquals(client.spanId(), server.parentId());
        // decode names the shared id as parent and runs in resize: it belongs under the server half.
        assertEquals(server.spanId(), spans.get("a1b2c3d4e5f60718").parentId());
        assertEquals(1_700_000_000_000_000L + 9000, server.startUs());
        assertTrue(spans.get("352bff9a74ca9ad2:server").error());
        assertTrue(!spans.get("352bff9a74ca9ad2").error());
        // a non-shared server span keeps its own id and parent
        assertEquals("e4a9f1c2b3d40516", spans.get("0f1e2d3c4b5a6978").parentId());
    }

    @Test
    void readsZipkinApiListOfTraces() {
        String json = """
                [[{"traceId": "a1", "id": "1", "name": "get", "timestamp": 10, "duration": 5,
                   "localEndpoint": {"serviceName": "web"}}],
                 [{"traceId": "b2", "id": "2", "timestamp": 20, "duration": 5}]]""";
        TraceReader.Result r = TraceReader.parse("z", json);
        assertEquals(TraceReader.Format.ZIPKIN, r.format());
        assertEquals(List.of("a1", "b2"), r.traces().stream().map(Trace::traceId).toList());
        assertEquals("unknown", r.traces().get(1).spans().getFirst().function());
    }

    @Test
    void mergesSpansOfOneTraceFromSeveralSources() {
        Trace a = new Trace("t", List.of(Span.root("t", "a", "f", "x", 0, 10)));
        Trace b = new Trace("t", List.of(Span.root("t", "b", "g", "y", 1, 2)));
        Trace c = new Trace("u", List.of(Span.root("u", "c", "g", "y", 1, 2)));
        List<Trace> merged = TraceReader.merge(List.of(a, c, b));
        assertEquals(2, merged.size());
        assertEquals(List.of("a", "b"), merged.getFirst().spans().stream().map(Span::spanId).toList());
    }

    private static String error(String json) {
        return assertThrows(TraceFormatException.class, () -> TraceReader.parse("traces.json", json)).getMessage();
    }

    @Test
    void malformedInputNamesTheFileAndTheProblem() {
        String span = "{\"traceID\": \"t\", \"spanID\": \"s%d\", \"startTime\": 1, \"duration\": 1, \"processID\": \"p\"}";
        String good = span.formatted(0) + "," + span.formatted(1) + "," + span.formatted(2);
        String noTraceId = "{\"spanID\": \"s3\", \"startTime\": 1, \"duration\": 1, \"processID\": \"p\"}";
        String processes = "\"processes\": {\"p\": {\"serviceName\": \"f\"}}";
        assertEquals("traces.json: span 3 has no traceID",
                error("{\"data\": [{\"spans\": [" + good + "," + noTraceId + "], " + processes + "}]}"));
        assertEquals("traces.json: trace 1: span 0 has no traceID",
                error("{\"data\": [{\"spans\": [" + good + "], " + processes + "}, {\"spans\": [" + noTraceId + "], "
                        + processes + "}]}"));
        assertEquals("traces.json: span 0 (s0) has processID p that is not in \"processes\"",
                error("{\"data\": [{\"spans\": [" + span.formatted(0) + "]}]}"));
        assertEquals("traces.json: span 0 (s0) has no duration",
                error("{\"data\": [{\"spans\": [{\"traceID\": \"t\", \"spanID\": \"s0\", \"startTime\": 1, "
                        + "\"processID\": \"p\"}], " + processes + "}]}"));
        assertEquals("traces.json: span 0 (s0) has a startTime that is not a number: \"soon\"",
                error("{\"data\": [{\"spans\": [{\"traceID\": \"t\", \"spanID\": \"s0\", \"startTime\": \"soon\", "
                        + "\"duration\": 1, \"processID\": \"p\"}], " + processes + "}]}"));
        assertEquals("traces.json: span 1 (b) has no timestamp",
                error("[{\"traceId\": \"t\", \"id\": \"a\", \"timestamp\": 1, \"duration\": 1}, "
                        + "{\"traceId\": \"t\", \"id\": \"b\", \"duration\": 1}]"));
        assertEquals("traces.json: span 0 (a) has a negative duration -4",
                error("[{\"traceId\": \"t\", \"id\": \"a\", \"timestamp\": 1, \"duration\": -4}]"));
        assertEquals("traces.json: span 0 has no traceId", error("[{\"id\": \"a\", \"timestamp\": 1, \"duration\": 1}]"));
        assertEquals("traces.json: empty file", error("  \n"));
        assertEquals("traces.json: no traces (an empty array)", error("[]"));
        assertEquals("traces.json: neither Jaeger nor Zipkin v2 JSON", error("[1, 2]"));
        assertEquals("traces.json: \"data\" is not an array of traces", error("{\"data\": 3}"));
        assertTrue(error("{\"data\": [").startsWith("traces.json: malformed JSON"), error("{\"data\": ["));
        assertTrue(error("{\"data\": [").contains("line 1"));
    }
}
