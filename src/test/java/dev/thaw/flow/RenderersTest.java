package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceReader;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
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

    /**
     * A small parser for the DOT subset: {@code digraph ID { stmt* }} where a statement is an
     * attribute statement ({@code graph|node|edge [..];}), a node ({@code ID [..];}) or an edge
     * ({@code ID -> ID [..];}); IDs are bare words or double-quoted strings with escapes.
     */
    static final class DotGraph {
        final Set<String> nodes = new HashSet<>();
        final Set<String> edges = new HashSet<>();
        private final List<String> tokens;
        private int at;

        private DotGraph(List<String> tokens) {
            this.tokens = tokens;
        }

        static DotGraph parse(String dot) {
            DotGraph g = new DotGraph(tokenize(dot));
            g.expect("digraph");
            g.id();
            g.expect("{");
            while (!g.peek().equals("}")) {
                g.statement();
            }
            g.expect("}");
            if (g.at != g.tokens.size()) {
                throw new AssertionError("trailing input after the graph");
            }
            return g;
        }

        private void statement() {
            String first = id();
            if (peek().equals("->")) {
                expect("->");
                String second = id();
                edges.add(first + "->" + second);
                nodes.add(first);
                nodes.add(second);
            } else if (!Set.of("graph", "node", "edge").contains(first)) {
                nodes.add(first);
            }
            if (peek().equals("[")) {
                attributes();
            }
            expect(";");
        }

        private void attributes() {
            expect("[");
            while (!peek().equals("]")) {
                id();
                expect("=");
                id();
                if (peek().equals(",")) {
                    expect(",");
                }
            }
            expect("]");
        }

        private String id() {
            String t = next();
            if (t.startsWith("\"")) {
                return t.substring(1);
            }
            if (!t.matches("[A-Za-z_][A-Za-z_0-9.]*|-?[0-9.]+")) {
                throw new AssertionError("not a DOT id: " + t);
            }
            return t;
        }

        private String peek() {
            if (at >= tokens.size()) {
                throw new AssertionError("unexpected end of DOT");
            }
            return tokens.get(at);
        }

        private String next() {
            String t = peek();
            at++;
            return t;
        }

        private void expect(String token) {
            String t = next();
            if (!t.equals(token)) {
                throw new AssertionError("expected " + token + " but found " + t);
            }
        }

        /** Quoted strings come back as a '"' followed by their unescaped content. */
        private static List<String> tokenize(String dot) {
            List<String> tokens = new ArrayList<>();
            int i = 0;
            while (i < dot.length()) {
                char c = dot.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '"') {
                    StringBuilder s = new StringBuilder("\"");
                    i++;
                    while (dot.charAt(i) != '"') {
                        if (dot.charAt(i) == '\\') {
                            char e = dot.charAt(++i);
                            s.append(e == '"' || e == '\\' ? String.valueOf(e) : "\\" + e);
                        } else {
                            s.append(dot.charAt(i));
                        }
                        i++;
                    }
                    i++;
                    tokens.add(s.toString());
                } else if (dot.startsWith("->", i)) {
                    tokens.add("->");
                    i += 2;
                } else if ("{}[];=,".indexOf(c) >= 0) {
                    tokens.add(String.valueOf(c));
                    i++;
                } else {
                    int start = i;
                    while (i < dot.length() && (Character.isLetterOrDigit(dot.charAt(i)) || "_.-".indexOf(dot.charAt(i)) >= 0)
                            && !dot.startsWith("->", i)) {
                        i++;
                    }
                    if (start == i) {
                        throw new AssertionError("unexpected character '" + c + "' in DOT");
                    }
                    tokens.add(dot.substring(start, i));
                }
            }
            return tokens;
        }
    }
}
