package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.SpanTags;
import dev.thaw.trace.Trace;
import dev.thaw.flow.FlowReport.EdgeStats;
import dev.thaw.flow.FlowReport.FunctionStats;
import dev.thaw.flow.FlowReport.Recommendation;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.thaw.flow.TestTraces.named;
import static dev.thaw.flow.TestTraces.span;
import static dev.thaw.flow.TestTraces.trace;
import static dev.thaw.flow.TestTraces.withTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowAnalysisTest {

    /** An {@code invoke f} span of function f, as thaw's daemon records it. */
    private static Span invoke(String id, String parent, String function, long start, long end, String... tags) {
        return withTags(named(span(id, parent, function, start, end), SpanTags.INVOKE_PREFIX + function), tags);
    }

    private static Span phase(String id, String parent, String function, String name, long start, long end) {
        return named(span(id, parent, function, start, end), name);
    }

    /**
     * gateway (0-1000) runs its code in guest_exec (10-990), calls auth (20-90, fails), then
     * resize (100-700). resize is cold: restore phases 100-450, then its code 450-690.
     */
    private static Trace coldResize(String traceId) {
        return trace(traceId,
                invoke("g", null, "gateway", 0, 1000, SpanTags.COLDSTART, "false"),
                phase("g.x", "g", "gateway", SpanTags.GUEST_EXEC, 10, 990),
                invoke("a", "g.x", "auth", 20, 90, SpanTags.ERROR, "true"),
                invoke("r", "g.x", "resize", 100, 700, SpanTags.COLDSTART, "true",
                        SpanTags.RESTORE_STRATEGY, "vanilla", SpanTags.COLDSTART_MS, "0.35"),
                phase("r.v", "r", "resize", SpanTags.VMM_START, 100, 200),
                phase("r.s", "r", "resize", SpanTags.STATE_LOAD, 200, 400),
                phase("r.p", "r", "resize", SpanTags.RESUME, 400, 450),
                phase("r.x", "r", "resize", SpanTags.GUEST_EXEC, 450, 690));
    }

    /** The same flow with every function warm: resize runs 100-300. */
    private static Trace warm(String traceId) {
        return trace(traceId,
                invoke("g", null, "gateway", 0, 600),
                phase("g.x", "g", "gateway", SpanTags.GUEST_EXEC, 10, 590),
                invoke("a", "g.x", "auth", 20, 90),
                invoke("r", "g.x", "resize", 100, 300, SpanTags.COLDSTART, "false"),
                phase("r.x", "r", "resize", SpanTags.GUEST_EXEC, 100, 290));
    }

    private static FunctionStats function(FlowReport report, String name) {
        return report.functions().stream().filter(f -> f.function().equals(name)).findFirst().orElseThrow();
    }

    private static EdgeStats edge(FlowReport report, String caller, String callee) {
        return report.edges().stream().filter(e -> e.caller().equals(caller) && e.callee().equals(callee))
                .findFirst().orElseThrow();
    }

    @Test
    void collapsesSpansIntoAFunctionGraph() {
        FlowReport report = FlowAnalysis.analyze(List.of(coldResize("t1"), warm("t2")));
        assertEquals(3, report.summary().functions());
        assertEquals(2, report.edges().size());
        EdgeStats auth = edge(report, "gateway", "auth");
        assertEquals(2, auth.calls());
        assertEquals(1, auth.errors());
        assertEquals(0.5, auth.errorRate());
        EdgeStats resize = edge(report, "gateway", "resize");
        assertEquals(200, resize.p50Us());
        assertEquals(600, resize.p99Us());
        assertEquals(2, resize.callsOnPath());
        assertEquals(2, function(report, "gateway").invocations());
        assertEquals(new FlowReport.Shape(2, 2, 2, 2, 2, 2), report.summary().shape());
        FlowReport.TraceSummary t1 = report.traces().getFirst();
        assertEquals(List.of("gateway"), t1.rootFunctions());
        assertEquals(Map.of("gateway", 330L, "auth", 70L, "resize", 600L), t1.pathUsByFunction());
        assertEquals(1000, t1.durationUs());
        assertEquals(0, t1.gapUs());
    }

    @Test
    void edgeLatencyPercentilesAreNearestRank() {
        List<Trace> traces = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            traces.add(trace("t" + i, invoke("c", null, "caller", 0, 1000), invoke("d", "c", "callee", 0, 10L * i)));
        }
        EdgeStats e = edge(FlowAnalysis.analyze(traces), "caller", "callee");
        assertEquals(10, e.calls());
        assertEquals(50, e.p50Us());
        assertEquals(90, e.p90Us());
        assertEquals(100, e.p99Us());
    }

    @Test
    void sharesOfTheCriticalPathOverTraces() {
        FlowReport report = FlowAnalysis.analyze(List.of(coldResize("t1"), warm("t2")));
        FunctionStats resize = function(report, "resize");
        // t1: 600 of 1000; t2: resize invoke 100-300 of 600 -> 200/600.
        assertEquals(0.3333, resize.pathShareP50());
        assertEquals(0.6, resize.pathShareP99());
        assertEquals(800, resize.pathUsTotal());
        assertEquals(0.5, resize.pathShareOfTotal());
        assertEquals(1, resize.rank());
        assertEquals("resize", report.functions().getFirst().function());
    }

    @Test
    void coldStartOnThePathMeasuredFromRestorePhases() {
        FlowReport report = FlowAnalysis.analyze(List.of(coldResize("t1"), warm("t2")));
        assertEquals(1, report.coldStarts().size());
        FlowReport.ColdStart c = report.coldStarts().getFirst();
        assertEquals("resize", c.function());
        assertEquals("vanilla", c.strategy());
        assertEquals(350, c.restoreUs());
        assertEquals(350, c.onPathUs());
        assertEquals("phases", c.source());
        Recommendation r = report.recommendations().getFirst();
        assertEquals("resize", r.function());
        // gateway calls resize 100 µs after it starts: too little to hide a 350 µs restore.
        assertEquals(FlowReport.Action.KEEP_WARM, r.action());
        assertEquals(350, r.savingP50Us());
        assertEquals(1, r.tracesAffected());
        assertEquals(2, r.traces());
        assertEquals(175, r.meanSavingPerTraceUs());
        assertEquals(100, r.leadP50Us());
    }

    @Test
    void coldStartOffThePathIsNotReported() {
        // resize's restore overlaps a slower sibling, so the sibling is on the path instead.
        Trace t = trace("t",
                invoke("g", null, "gateway", 0, 1000),
                invoke("slow", "g", "slow", 10, 900),
                invoke("r", "g", "resize", 10, 500, SpanTags.COLDSTART, "true"),
                phase("r.v", "r", "resize", SpanTags.VMM_START, 10, 300));
        FlowReport report = FlowAnalysis.analyze(List.of(t));
        assertTrue(report.coldStarts().isEmpty());
        assertTrue(report.recommendations().isEmpty());
        assertEquals(1, function(report, "resize").coldStarts());
        assertEquals(0, function(report, "resize").coldStartsOnPath());
    }

    @Test
    void lateCallCanBeRestoredAheadOfItsCaller() {
        // The caller works 1500 µs before calling; the 200 µs restore (from thaw.coldstart_ms) fits.
        Trace t = trace("t",
                invoke("c", null, "caller", 0, 2000),
                invoke("d", "c", "report", 1500, 1900, SpanTags.COLDSTART, "true", SpanTags.COLDSTART_MS, "0.2"));
        Recommendation r = FlowAnalysis.analyze(List.of(t)).recommendations().getFirst();
        assertEquals(FlowReport.Action.RESTORE_AHEAD, r.action());
        assertEquals("caller", r.caller());
        assertEquals(200, r.savingP50Us());
        assertEquals(1500, r.leadP50Us());
    }

    @Test
    void coldEntryFunctionShouldBeKeptWarm() {
        Trace t = trace("t", invoke("e", null, "entry", 0, 500, SpanTags.COLDSTART_MS, "0.3"));
        FlowReport report = FlowAnalysis.analyze(List.of(t));
        assertEquals("tag", report.coldStarts().getFirst().source());
        Recommendation r = report.recommendations().getFirst();
        assertEquals(FlowReport.Action.KEEP_WARM, r.action());
        assertNull(r.caller());
        assertEquals(300, r.savingP50Us());
        assertTrue(r.reason().contains("entry function"), r.reason());
    }

    @Test
    void coldStartWithoutTimingIsEstimatedFromWarmInvocations() {
        List<Trace> traces = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            traces.add(trace("w" + i, invoke("c", null, "caller", 0, 1000), invoke("d", "c", "fn", 100, 300)));
        }
        traces.add(trace("cold", invoke("c", null, "caller", 0, 1000),
                invoke("d", "c", "fn", 100, 800, SpanTags.COLDSTART, "true")));
        FlowReport.ColdStart c = FlowAnalysis.analyze(traces).coldStarts().getFirst();
        assertEquals("baseline", c.source());
        assertEquals(500, c.restoreUs()); // 700 µs minus the warm p50 of 200 µs
        assertEquals(500, c.onPathUs());
    }

    @Test
    void asyncPolicyDecidesWhetherAnOutlivingCalleeCounts() {
        Trace t = trace("t",
                invoke("g", null, "gateway", 0, 100),
                withTags(new Span("t", "i", "g", Span.RefType.FOLLOWS_FROM, "index", "invoke index", 50, 450,
                        Map.of()), SpanTags.COLDSTART, "true", SpanTags.COLDSTART_MS, "0.3"));
        FlowReport follow = FlowAnalysis.analyze(List.of(t), new FlowAnalysis.Options(AsyncPolicy.FOLLOW));
        assertEquals(500, follow.traces().getFirst().durationUs());
        assertEquals(300, follow.coldStarts().getFirst().onPathUs());
        FlowReport clip = FlowAnalysis.analyze(List.of(t), new FlowAnalysis.Options(AsyncPolicy.CLIP));
        assertEquals(100, clip.traces().getFirst().durationUs());
        assertTrue(clip.coldStarts().isEmpty());
        assertEquals(0, edge(clip, "gateway", "index").callsOnPath());
    }

    @Test
    void orphansAndCyclesBecomeWarningsInTheReport() {
        Trace orphan = trace("o", span("r", null, 0, 100), span("x", "gone", 10, 20));
        Trace cycle = trace("c", span("a", "b", 0, 100), span("b", "a", 10, 50));
        FlowReport report = FlowAnalysis.analyze(List.of(orphan, cycle));
        assertEquals(2, report.warnings().size());
        assertTrue(report.warnings().get(0).startsWith("trace o: span x"), report.warnings().get(0));
        assertTrue(report.warnings().get(1).startsWith("trace c: spans a -> b -> a"), report.warnings().get(1));
        assertEquals(2, report.traces().size());
    }

    @Test
    void emptyInputGivesAnEmptyReport() {
        FlowReport report = FlowAnalysis.analyze(List.of());
        assertEquals(0, report.summary().traces());
        assertTrue(report.functions().isEmpty());
    }
}
