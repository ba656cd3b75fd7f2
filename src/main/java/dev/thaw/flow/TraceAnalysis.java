package dev.thaw.flow;

import dev.thaw.flow.FlowReport.ColdStart;
import dev.thaw.flow.FlowReport.TraceSummary;
import dev.thaw.trace.Span;
import dev.thaw.trace.SpanTags;
import dev.thaw.trace.Trace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The analysis of one trace, the step {@link FlowAnalysis} takes for each before it aggregates:
 * the span tree, the critical path, the invocations (a root, a span whose parent runs in another
 * function, or an {@code invoke …} span) with their callers and call depth, the shape of the call
 * tree, each function's time on the path, and the cold starts with how much of their restore lay
 * on the path. Cold starts are measured in a second pass ({@link #findColdStarts}), because one
 * without restore phases or a restore time is judged against the warm p50 over all traces.
 */
final class TraceAnalysis {
    final Trace trace;
    final SpanTree tree;
    final CriticalPath.Result path;
    final List<Invocation> invocations = new ArrayList<>();
    final Map<String, Invocation> ownerOf = new HashMap<>();
    final Map<String, List<CriticalPathSection>> sectionsBySpan = new HashMap<>();
    final Set<Invocation> onPath = new LinkedHashSet<>();
    final Map<String, Long> pathByFunction = new TreeMap<>();
    final Set<String> functions = new LinkedHashSet<>();
    final List<Cold> colds = new ArrayList<>();
    int depth;
    int fanOut;
    int width;

    TraceAnalysis(Trace trace, AsyncPolicy policy, Consumer<String> warn) {
        this.trace = trace;
        this.tree = SpanTree.build(trace, warn);
        this.path = CriticalPath.compute(tree, policy);
        findInvocations();
        for (CriticalPathSection s : path.sections()) {
            sectionsBySpan.computeIfAbsent(s.spanId(), id -> new ArrayList<>()).add(s);
            pathByFunction.merge(s.function(), s.lengthUs(), Long::sum);
            Invocation owner = ownerOf.get(s.spanId());
            if (owner != null) {
                onPath.add(owner);
            }
        }
    }

    private void findInvocations() {
        Map<Invocation, Integer> calls = new HashMap<>();
        Map<Integer, Integer> perDepth = new HashMap<>();
        for (Span span : tree.depthFirst()) {
            functions.add(span.function());
            Span parent = tree.parent(span);
            Invocation owner = parent == null ? null : ownerOf.get(parent.spanId());
            boolean invocation = parent == null || !span.function().equals(parent.function())
                    || span.operation().startsWith(SpanTags.INVOKE_PREFIX);
            if (!invocation) {
                ownerOf.put(span.spanId(), owner);
                continue;
            }
            List<Span> phases = tree.children(span).stream()
                    .filter(c -> SpanTags.RESTORE_PHASES.contains(c.operation()) && c.function().equals(span.function()))
                    .toList();
            Invocation inv = new Invocation(span, owner, owner == null ? 1 : owner.depth + 1, phases);
            invocations.add(inv);
            ownerOf.put(span.spanId(), inv);
            if (owner != null) {
                fanOut = Math.max(fanOut, calls.merge(owner, 1, Integer::sum));
            }
            width = Math.max(width, perDepth.merge(inv.depth, 1, Integer::sum));
            depth = Math.max(depth, inv.depth);
        }
    }

    /** Time the critical path spent in {@code spans} within [from, to). */
    long pathOverlap(List<Span> spans, long from, long to) {
        long sum = 0;
        for (Span span : spans) {
            for (CriticalPathSection s : sectionsBySpan.getOrDefault(span.spanId(), List.of())) {
                sum += Math.max(0, Math.min(to, s.endUs()) - Math.max(from, s.startUs()));
            }
        }
        return sum;
    }

    void findColdStarts(Map<String, Long> warmP50, List<ColdStart> out) {
        for (Invocation inv : invocations) {
            if (!inv.isCold()) {
                continue;
            }
            Cold cold = measure(inv, warmP50);
            colds.add(cold);
            if (cold.onPathUs > 0 || !cold.known && onPath.contains(inv)) {
                out.add(new ColdStart(trace.traceId(), inv.span.spanId(), inv.function(),
                        inv.span.tag(SpanTags.RESTORE_STRATEGY), cold.restoreUs, cold.onPathUs, cold.source));
            }
        }
    }

    private Cold measure(Invocation inv, Map<String, Long> warmP50) {
        List<Span> own = new ArrayList<>(inv.restorePhases);
        own.add(inv.span);
        if (!inv.restorePhases.isEmpty()) {
            // Phases may overlap (FaaSnap prefetches while the VMM starts): count the union.
            List<Span> phases = new ArrayList<>(inv.restorePhases);
            phases.sort(SpanTree.BY_START);
            long restore = 0;
            long onPath = 0;
            long coveredTo = Long.MIN_VALUE;
            for (Span p : phases) {
                long from = Math.max(p.startUs(), coveredTo);
                if (p.endUs() > from) {
                    restore += p.endUs() - from;
                    onPath += pathOverlap(own, from, p.endUs());
                    coveredTo = p.endUs();
                }
            }
            return new Cold(inv, restore, onPath, "phases", true);
        }
        Double ms = number(inv.span.tag(SpanTags.COLDSTART_MS));
        if (ms != null && ms > 0) {
            long restore = Math.round(ms * 1000);
            long start = inv.span.startUs();
            return new Cold(inv, restore, pathOverlap(own, start, start + restore), "tag", true);
        }
        Long warm = warmP50.get(inv.function());
        if (warm == null) {
            return new Cold(inv, 0, 0, "unknown", false);
        }
        long restore = Math.max(0, inv.span.durationUs() - warm);
        long start = inv.span.startUs();
        return new Cold(inv, restore, pathOverlap(own, start, start + restore), "baseline", true);
    }

    TraceSummary summary() {
        List<String> roots = tree.roots.stream().map(Span::function).distinct().toList();
        long pathUs = path.pathUs();
        return new TraceSummary(trace.traceId(), roots, path.startUs(), path.endUs(), path.durationUs(),
                tree.spans.size(), depth, fanOut, width, pathUs, path.durationUs() - pathUs,
                new LinkedHashMap<>(pathByFunction), path.sections());
    }

    /**
     * An invocation span, the invocation that called it (null for roots) and its call depth.
     * Identity equality: invocations are keys of maps, and a record would hash the caller chain.
     */
    static final class Invocation {
        final Span span;
        final Invocation caller;
        final int depth;
        final List<Span> restorePhases;

        Invocation(Span span, Invocation caller, int depth, List<Span> restorePhases) {
            this.span = span;
            this.caller = caller;
            this.depth = depth;
            this.restorePhases = restorePhases;
        }

        String function() {
            return span.function();
        }

        /** Cold if {@code faas.coldstart} says so; without that tag, if it has restore phases or a restore time. */
        boolean isCold() {
            String flag = span.tag(SpanTags.COLDSTART);
            if (flag != null) {
                return flag.equalsIgnoreCase("true") || flag.equals("1");
            }
            Double ms = number(span.tag(SpanTags.COLDSTART_MS));
            return !restorePhases.isEmpty() || ms != null && ms > 0;
        }
    }

    /** The cold start of one invocation and how much of it lay on the critical path. */
    record Cold(Invocation invocation, long restoreUs, long onPathUs, String source, boolean known) {}

    private static Double number(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
