package dev.thaw.trace;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** What the daemon serves at {@code GET /traces} reads back, through {@link TraceReader}, as the spans it holds. */
class TraceWriterTest {
    static final long T0 = 1_704_067_200_000_000L;

    /** Two traces of a caller and two callees, with tags of every JSON type a tag can take. */
    static List<Trace> traces(Span.RefType callRef) {
        String t1 = "4bf92f3577b34da6a3ce929d0e0e4736";
        Span root = new Span(t1, "00f067aa0ba902b7", null, null, "pipe-ingest", "invoke pipe-ingest", T0, 5_000,
                Map.of("faas.coldstart", "true", "thaw.coldstart_ms", "812.25", "thaw.call.depth", "0",
                        "thaw.instance", "i-0a1b2c3d", "span.kind", "server"));
        Span phase = new Span(t1, "00f067aa0ba902b8", root.spanId(), Span.RefType.CHILD_OF, "pipe-ingest", "vmm_start",
                T0, 800, Map.of("thaw.function", "pipe-ingest"));
        Span exec = new Span(t1, "00f067aa0ba902b9", root.spanId(), Span.RefType.CHILD_OF, "pipe-ingest", "guest_exec",
                T0 + 812, 4_100, Map.of("thaw.guest_exec_ms", "4099.5"));
        Span callee = new Span(t1, "00f067aa0ba902ba", exec.spanId(), callRef, "pipe-transform", "invoke pipe-transform",
                T0 + 1_000, 3_000, Map.of("error", "true", "thaw.mode", "warm",
                        // values that only look numeric must stay exactly as they are
                        "build", "007", "big", "123456789012345678901234567890", "ratio", "0.50", "sci", "1e5"));
        Span zero = new Span(t1, "00f067aa0ba902bb", callee.spanId(), Span.RefType.CHILD_OF, "pipe-store", "invoke pipe-store",
                T0 + 2_000, 0, Map.of());
        Span other = Span.root("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "hello", "invoke hello", T0 + 9_000, 250);
        return List.of(new Trace(t1, List.of(root, phase, exec, callee, zero)), new Trace(other.traceId(), List.of(other)));
    }

    private static List<Span> sorted(List<Trace> traces) {
        return traces.stream().flatMap(t -> t.spans().stream()).sorted(Comparator.comparing(Span::spanId)).toList();
    }

    @Test
    void jaegerRoundTripsEverySpan() {
        List<Trace> in = traces(Span.RefType.FOLLOWS_FROM);
        TraceReader.Result back = TraceReader.parse("jaeger", Json.write(TraceWriter.jaeger(in)));
        assertEquals(TraceReader.Format.JAEGER, back.format());
        assertEquals(in.stream().map(Trace::traceId).toList(), back.traces().stream().map(Trace::traceId).toList());
        assertEquals(sorted(in), sorted(back.traces()));
    }

    @Test
    void jaegerTagsKeepTheirTypesOnlyWhenThatLosesNothing() {
        JsonNode spans = TraceWriter.jaeger(traces(Span.RefType.CHILD_OF)).at("/data/0/spans");
        assertEquals("bool", tag(spans, 0, "faas.coldstart").path("type").asText());
        assertTrue(tag(spans, 0, "faas.coldstart").path("value").isBoolean());
        assertEquals("float64", tag(spans, 0, "thaw.coldstart_ms").path("type").asText());
        assertEquals(812.25, tag(spans, 0, "thaw.coldstart_ms").path("value").asDouble());
        assertEquals("int64", tag(spans, 0, "thaw.call.depth").path("type").asText());
        for (String key : List.of("build", "big", "ratio", "sci")) {
            assertEquals("string", tag(spans, 3, key).path("type").asText(), key);
        }
        // One process per function, referenced by id.
        JsonNode trace = TraceWriter.jaeger(traces(Span.RefType.CHILD_OF)).at("/data/0");
        assertEquals(3, trace.path("processes").size());
        assertEquals("pipe-transform", trace.path("processes").path(spans.get(3).path("processID").asText()).path("serviceName").asText());
        assertEquals("CHILD_OF", spans.get(3).at("/references/0/refType").asText());
        assertEquals(0, spans.get(0).path("references").size(), "a root has no reference");
    }

    private static JsonNode tag(JsonNode spans, int span, String key) {
        for (JsonNode t : spans.get(span).path("tags")) {
            if (t.path("key").asText().equals(key)) return t;
        }
        throw new AssertionError("span " + span + " has no tag " + key);
    }

    @Test
    void zipkinRoundTripsEverySpan() {
        List<Trace> in = traces(Span.RefType.CHILD_OF);
        TraceReader.Result back = TraceReader.parse("zipkin", Json.write(TraceWriter.zipkin(in)));
        assertEquals(TraceReader.Format.ZIPKIN, back.format());
        assertEquals(in.stream().map(Trace::traceId).toList(), back.traces().stream().map(Trace::traceId).toList());
        assertEquals(sorted(in), sorted(back.traces()));
    }

    @Test
    void zipkinHasNoFollowsFromSoAsyncCallsReadBackAsChildren() {
        List<Trace> in = traces(Span.RefType.FOLLOWS_FROM);
        Span back = sorted(TraceReader.parse("zipkin", Json.write(TraceWriter.zipkin(in))).traces()).stream()
                .filter(s -> s.function().equals("pipe-transform")).findFirst().orElseThrow();
        assertEquals("00f067aa0ba902b9", back.parentId());
        assertEquals(Span.RefType.CHILD_OF, back.refType());
    }

    @Test
    void anEmptyStoreWritesValidEmptyDocuments() {
        assertEquals("{\"data\":[]}", Json.write(TraceWriter.jaeger(List.of())));
        assertEquals("[]", Json.write(TraceWriter.zipkin(List.of())));
    }

    @Test
    void flowAnalysisSeesTheSameCallGraphInBothFormats() {
        List<Trace> in = traces(Span.RefType.CHILD_OF);
        dev.thaw.flow.FlowReport direct = dev.thaw.flow.FlowAnalysis.analyze(in);
        for (var text : List.of(Json.write(TraceWriter.jaeger(in)), Json.write(TraceWriter.zipkin(in)))) {
            dev.thaw.flow.FlowReport read = dev.thaw.flow.FlowAnalysis.analyze(TraceReader.parse("x", text).traces());
            assertEquals(direct.edges(), read.edges());
            assertEquals(direct.functions(), read.functions());
            assertEquals(direct.traces(), read.traces());
        }
    }
}
