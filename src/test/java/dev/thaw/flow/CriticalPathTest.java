package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.Trace;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.thaw.flow.AsyncPolicy.CLIP;
import static dev.thaw.flow.AsyncPolicy.FOLLOW;
import static dev.thaw.flow.TestTraces.follows;
import static dev.thaw.flow.TestTraces.path;
import static dev.thaw.flow.TestTraces.span;
import static dev.thaw.flow.TestTraces.trace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Critical paths of hand-built traces; each expected path was worked out on paper. */
class CriticalPathTest {

    @Test
    void sequentialChainIncludingBackToBackCalls() {
        // a calls b, and c the moment b returns (Jaeger UI's strict "<" would skip b here).
        Trace t = trace(span("a", null, 0, 100), span("b", "a", 10, 40), span("c", "a", 40, 90),
                span("d", "c", 50, 70));
        List<String> expected = List.of("a 0-10", "b 10-40", "c 40-50", "d 50-70", "c 70-90", "a 90-100");
        assertEquals(expected, path(t, FOLLOW));
        assertEquals(expected, path(t, CLIP));
    }

    @Test
    void parallelFanOutAndFanInKeepsOnlyTheSlowestWorker() {
        // root fans out to three workers, waits for all, then aggregates.
        Trace t = trace(span("root", null, 0, 100),
                span("w1", "root", 10, 50), span("w2", "root", 10, 80), span("w3", "root", 12, 60),
                span("agg", "root", 80, 95));
        assertEquals(List.of("root 0-10", "w2 10-80", "agg 80-95", "root 95-100"), path(t, FOLLOW));
    }

    @Test
    void asyncChildOutlivingItsParent() {
        Trace t = trace(span("p", null, 0, 50), span("bg", "p", 10, 120));
        // FOLLOW: the trace ends at 120 and the path runs through the async child.
        assertEquals(List.of("p 0-10", "bg 10-120"), path(t, FOLLOW));
        // CLIP: the child is cut at its parent's end, Jaeger UI's way.
        assertEquals(List.of("p 0-10", "bg 10-50"), path(t, CLIP));
    }

    @Test
    void followsFromChildIsOnThePathOnlyWhenItOutlivesItsParent() {
        Trace inside = trace(span("p", null, 0, 50), follows("log", "p", 20, 30));
        assertEquals(List.of("p 0-50"), path(inside, FOLLOW));
        Trace outliving = trace(span("p", null, 0, 50), follows("q", "p", 20, 200));
        assertEquals(List.of("p 0-20", "q 20-200"), path(outliving, FOLLOW));
        assertEquals(List.of("p 0-50"), path(outliving, CLIP));
    }

    @Test
    void asyncChildStartingAfterItsCallerEndedLeavesAGap() {
        Trace t = trace(span("p", null, 0, 50), follows("q", "p", 70, 100));
        CriticalPath.Result r = CriticalPath.compute(t, FOLLOW, w -> {});
        assertEquals(List.of("p 0-50", "q 70-100"), path(t, FOLLOW));
        assertEquals(100, r.durationUs());
        assertEquals(80, r.pathUs());
    }

    @Test
    void childStartingBeforeItsParentIsClippedToTheParentsStart() {
        Trace t = trace(span("root", null, 0, 60), span("p", "root", 10, 50), span("c", "p", 5, 30));
        List<String> expected = List.of("root 0-10", "c 10-30", "p 30-50", "root 50-60");
        assertEquals(expected, path(t, FOLLOW));
        assertEquals(expected, path(t, CLIP));
    }

    @Test
    void childEndingBeforeItsParentStartsIsLeftOut() {
        Trace t = trace(span("p", null, 10, 30), span("early", "p", 1, 5));
        assertEquals(List.of("p 10-30"), path(t, FOLLOW));
    }

    @Test
    void overlappingSiblingsGiveTheEarlierPartToTheParent() {
        // s1 is still running when s2 starts; only the last finisher is on the path, and the
        // cursor then sits at 40, before s1's end, so s1 is passed over (as Jaeger UI does).
        Trace t = trace(span("root", null, 0, 100), span("s1", "root", 10, 60), span("s2", "root", 40, 90));
        assertEquals(List.of("root 0-40", "s2 40-90", "root 90-100"), path(t, FOLLOW));
    }

    @Test
    void siblingsEndingTogetherPickTheLaterStart() {
        Trace t = trace(span("root", null, 0, 100), span("long", "root", 10, 80), span("short", "root", 50, 80));
        assertEquals(List.of("root 0-50", "short 50-80", "root 80-100"), path(t, FOLLOW));
    }

    @Test
    void orphanBecomesAnExtraRootAndIsWarnedAbout() {
        Trace t = trace(span("r", null, 0, 100), span("a", "r", 10, 30), span("o", "missing", 50, 150));
        List<String> warnings = new ArrayList<>();
        // o finishes last; before its start the path continues in r, which was still open.
        assertEquals(List.of("r 0-10", "a 10-30", "r 30-50", "o 50-150"), path(t, FOLLOW, warnings::add));
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().contains("span o") && warnings.getFirst().contains("missing"),
                warnings.getFirst());
    }

    @Test
    void cycleIsBrokenAtItsEarliestSpan() {
        Trace t = trace(span("a", "c", 0, 100), span("b", "a", 10, 50), span("c", "b", 20, 40));
        List<String> warnings = new ArrayList<>();
        assertEquals(List.of("a 0-10", "b 10-20", "c 20-40", "b 40-50", "a 50-100"), path(t, FOLLOW, warnings::add));
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().contains("cycle") && warnings.getFirst().contains("span a made a root"),
                warnings.getFirst());
    }

    @Test
    void selfReferenceIsACycleToo() {
        Trace t = trace(span("a", "a", 0, 10));
        List<String> warnings = new ArrayList<>();
        assertEquals(List.of("a 0-10"), path(t, FOLLOW, warnings::add));
        assertEquals(1, warnings.size());
    }

    @Test
    void deepChainDoesNotOverflowTheStack() {
        int n = 50_000;
        Span[] spans = new Span[n];
        for (int i = 0; i < n; i++) {
            spans[i] = span("s" + i, i == 0 ? null : "s" + (i - 1), i, 2L * n - i);
        }
        CriticalPath.Result r = CriticalPath.compute(trace(spans), FOLLOW, w -> {});
        assertEquals(2L * n, r.pathUs());
        assertEquals(2 * n - 1, r.sections().size());
    }

    @Test
    void sectionsAreContiguousAndCoverTheTraceWhenThereAreNoGaps() {
        Trace t = trace(span("root", null, 0, 1000),
                span("a", "root", 100, 400), span("b", "a", 150, 390), span("c", "root", 200, 900),
                span("d", "c", 300, 950), span("e", "root", 905, 990));
        CriticalPath.Result r = CriticalPath.compute(t, FOLLOW, w -> {});
        long at = r.startUs();
        for (CriticalPathSection s : r.sections()) {
            assertEquals(at, s.startUs(), "sections must be contiguous: " + r.sections());
            at = s.endUs();
        }
        assertEquals(r.endUs(), at);
    }
}
