package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceReader;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RenderersTest {
    private static final FlowReport SAMPLE = FlowAnalysis.analyze(
            TraceReader.read(PublicFixturesTest.FIXTURES.resolve("thaw-sample.json")).traces());

    @Test
    void jsonHasTheDocumentedShape() {
        JsonNode json = Json.parse(JsonReport.render(SAMPLE));
        assertEquals(30, json.at("/summary/traces").asInt());
        assertEquals("FOLLOW", json.at("/summary/async_policy").asText());
        assertEquals("nearest rank", json.at("/summary/percentiles").asText());
        assertTrue(json.at("/summary/duration_p50_us").isIntegralNumber());
        JsonNode trace = json.at("/traces/0");
        assertTrue(trace.get("trace_id").isTextual());
        JsonNode path = trace.get("critical_path");
        assertTrue(path.isArray() && !path.isEmpty());
        long previousEnd = Long.MIN_VALUE;
        for (JsonNode section : path) {
            Set<String> keys = new HashSet<>();
            section.fieldNames().forEachRemaining(keys::add);
            assertEquals(Set.of("spanId", "function", "operation", "start_us", "end_us"), keys);
            assertTrue(section.get("start_us").asLong() >= previousEnd, "sections in time order");
            assertTrue(section.get("end_us").asLong() > section.get("start_us").asLong());
            previousEnd = section.get("end_us").asLong();
        }
        JsonNode fn = json.at("/functions/0");
        for (String key : List.of("rank", "function", "path_share_p50", "path_share_p99", "path_us_total", "cold_starts_on_path")) {
            assertTrue(fn.has(key), key);
        }
        JsonNode edge = json.at("/edges/0");
        for (String key : List.of("caller", "callee", "calls", "error_rate", "p50_us", "p90_us", "p99_us")) {
            assertTrue(edge.has(key), key);
        }
        assertTrue(json.at("/cold_starts/0/on_path_us").asLong() > 0);
        assertTrue(json.at("/recommendations/0/saving_p50_us").asLong() > 0);
        assertTrue(json.get("warnings").isArray());
        assertTrue(json.equals(Json.parse(Json.write(JsonReport.toJson(SAMPLE)))), "toJson and render agree");
    }

    @Test
    void dotParsesAsADigraphWithEveryFunctionAndEdge() {
        String dot = DotReport.render(SAMPLE);
        DotGraph graph = DotGraph.parse(dot);
        assertEquals(Set.of("gateway", "auth", "resize", "thumbnail", "store", "index"), graph.nodes);
        assertEquals(SAMPLE.edges().size(), graph.edges.size());
        assertTrue(graph.edges.contains("thumbnail->store"));
    }

    @Test
    void dotQuotesAwkwardNames() {
        Trace t = new Trace("t", List.of(Span.root("t", "a", "say \"hi\"\\n", "x", 0, 10),
                new Span("t", "b", "a", Span.RefType.CHILD_OF, "b{c}", "y", 1, 2, null)));
        DotGraph graph = DotGraph.parse(DotReport.render(FlowAnalysis.analyze(List.of(t))));
        assertEquals(Set.of("say \"hi\"\\n", "b{c}"), graph.nodes);
    }

    @Test
    void htmlIsSelfContainedWithInlineSvg() {
        String html = HtmlReport.render(SAMPLE);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<svg"));
        assertEquals(4, html.split("<svg", -1).length - 1, "the graph and three critical paths");
        assertFalse(html.contains("<script"), "no scripts");
        assertFalse(html.contains("<link"), "no external stylesheets");
        assertFalse(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").contains("http"), "nothing fetched");
        for (String f : List.of("gateway", "resize", "index")) {
            assertTrue(html.contains(">" + f + "</text>"), f);
        }
        assertTrue(html.contains("Keep resize warm"));
        assertTrue(html.contains("percentiles are nearest rank over traces (the smallest value"), "the footer defines p50/p99");
    }

    @Test
    void htmlEscapesNames() {
        Trace t = new Trace("t", List.of(Span.root("t", "a", "<b>&", "x", 0, 10)));
        String html = HtmlReport.render(FlowAnalysis.analyze(List.of(t)));
        assertTrue(html.contains("&lt;b&gt;&amp;"));
        assertFalse(html.contains("<b>&"));
    }

    @Test
    void textNamesTheSectionsAndTheSlowestPath() {
        String text = TextReport.render(SAMPLE, 5, 1);
        for (String heading : List.of("Dependency graph", "Bottlenecks", "Cold starts on the critical path",
                "Recommendations", "Critical paths (1 slowest of 30 traces")) {
            assertTrue(text.contains(heading), heading);
        }
        String slowest = SAMPLE.traces().stream()
                .max(java.util.Comparator.comparingLong(FlowReport.TraceSummary::durationUs)).orElseThrow().traceId();
        assertTrue(text.contains("trace " + slowest), text);
        assertTrue(text.endsWith("\npercentiles: nearest rank (the smallest value with at least p% of the values at or below it;"
                + " the median of an even count is the lower middle value)\n"), text);
    }
}
