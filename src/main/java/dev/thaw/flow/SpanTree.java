package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The parent/child structure of one trace, made a forest whatever the input: a span whose parent
 * is missing (an orphan) becomes an extra root, a second span with an id already seen is dropped,
 * and every reference cycle is broken by making its earliest span (then smallest id) a root.
 * Each repair is reported through the warning sink. Children and roots are ordered by start time,
 * then span id, so everything computed from the tree is deterministic.
 */
final class SpanTree {
    static final Comparator<Span> BY_START = Comparator.comparingLong(Span::startUs).thenComparing(Span::spanId);

    final Trace trace;
    final List<Span> spans;
    final Map<String, Span> byId;
    final List<Span> roots;
    private final Map<String, Span> parentOf;
    private final Map<String, List<Span>> childrenOf;

    private SpanTree(Trace trace, List<Span> spans, Map<String, Span> byId, Map<String, Span> parentOf) {
        this.trace = trace;
        this.spans = spans;
        this.byId = byId;
        this.parentOf = parentOf;
        this.childrenOf = new HashMap<>();
        List<Span> rootList = new ArrayList<>();
        for (Span span : spans) {
            Span parent = parentOf.get(span.spanId());
            if (parent == null) {
                rootList.add(span);
            } else {
                childrenOf.computeIfAbsent(parent.spanId(), id -> new ArrayList<>()).add(span);
            }
        }
        rootList.sort(BY_START);
        childrenOf.values().forEach(list -> list.sort(BY_START));
        this.roots = List.copyOf(rootList);
    }

    static SpanTree build(Trace trace, Consumer<String> warn) {
        String t = "trace " + trace.traceId() + ": ";
        Map<String, Span> byId = new LinkedHashMap<>();
        for (Span span : trace.spans()) {
            Span first = byId.putIfAbsent(span.spanId(), span);
            if (first != null && !first.equals(span)) {
                warn.accept(t + "duplicate span id " + span.spanId() + "; kept the first");
            }
        }
        List<Span> spans = List.copyOf(byId.values());
        Map<String, Span> parentOf = new HashMap<>();
        for (Span span : spans) {
            if (span.parentId() == null) {
                continue;
            }
            Span parent = byId.get(span.parentId());
            if (parent == null) {
                warn.accept(t + "span " + span.spanId() + " (" + span.function() + ") has parent "
                        + span.parentId() + " that is not in the trace; treated as a root");
            } else {
                parentOf.put(span.spanId(), parent);
            }
        }
        breakCycles(t, spans, parentOf, warn);
        return new SpanTree(trace, spans, byId, parentOf);
    }

    /**
     * Spans not reachable from a root hang on a cycle. Walk parent links from the earliest such
     * span until a span repeats: the repeated stretch is a cycle; cut the parent link of its
     * earliest span, and repeat until everything is reachable.
     */
    private static void breakCycles(String t, List<Span> spans, Map<String, Span> parentOf, Consumer<String> warn) {
        Map<String, List<Span>> children = new HashMap<>();
        List<Span> roots = new ArrayList<>();
        for (Span span : spans) {
            Span parent = parentOf.get(span.spanId());
            if (parent == null) {
                roots.add(span);
            } else {
                children.computeIfAbsent(parent.spanId(), id -> new ArrayList<>()).add(span);
            }
        }
        Set<String> reached = new HashSet<>();
        reach(roots, children, reached);
        while (reached.size() < spans.size()) {
            Span start = spans.stream().filter(s -> !reached.contains(s.spanId())).min(BY_START).orElseThrow();
            LinkedHashSet<Span> walked = new LinkedHashSet<>();
            Span at = start;
            while (walked.add(at)) {
                at = parentOf.get(at.spanId());
            }
            // `at` is the first span met twice: the cycle runs from it back to itself.
            List<Span> cycle = new ArrayList<>();
            boolean in = false;
            for (Span s : walked) {
                in |= s.equals(at);
                if (in) {
                    cycle.add(s);
                }
            }
            Span cut = cycle.stream().min(BY_START).orElseThrow();
            Span oldParent = parentOf.remove(cut.spanId());
            children.get(oldParent.spanId()).remove(cut);
            StringBuilder names = new StringBuilder();
            for (Span s : cycle) {
                names.append(s.spanId()).append(" -> ");
            }
            names.append(cycle.getFirst().spanId());
            warn.accept(t + "spans " + names + " reference each other as parents (a cycle); span "
                    + cut.spanId() + " made a root");
            reach(List.of(cut), children, reached);
        }
    }

    private static void reach(List<Span> from, Map<String, List<Span>> children, Set<String> reached) {
        ArrayDeque<Span> todo = new ArrayDeque<>(from);
        while (!todo.isEmpty()) {
            Span span = todo.pop();
            if (reached.add(span.spanId())) {
                todo.addAll(children.getOrDefault(span.spanId(), List.of()));
            }
        }
    }

    Span parent(Span span) {
        return parentOf.get(span.spanId());
    }

    List<Span> children(Span span) {
        return childrenOf.getOrDefault(span.spanId(), List.of());
    }

    /** The spans in depth-first order (parents before children, siblings by start time). */
    List<Span> depthFirst() {
        List<Span> order = new ArrayList<>(spans.size());
        ArrayDeque<Span> todo = new ArrayDeque<>();
        for (int i = roots.size() - 1; i >= 0; i--) {
            todo.push(roots.get(i));
        }
        while (!todo.isEmpty()) {
            Span span = todo.pop();
            order.add(span);
            List<Span> kids = children(span);
            for (int i = kids.size() - 1; i >= 0; i--) {
                todo.push(kids.get(i));
            }
        }
        return order;
    }
}
