package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The critical path of one trace: the chain of spans that, section by section, the trace's end
 * was waiting for.
 *
 * <p>Algorithm (the backwards walk Jaeger UI also uses): start at the root's end. At a span with
 * the cursor at time t, pick the child that finished last among those finishing at or before t;
 * the stretch between that child's end and t belongs to the span itself; walk into the child with
 * the cursor at its end; when the child is done, continue in the span from the child's start.
 * When no child is left, the span owns everything back to its own start. Gaps between children
 * are therefore attributed to the parent, and of overlapping siblings only the one finishing last
 * is on the path until the cursor passes below the others' ends.
 *
 * <p>Rules for the awkward cases, decided here and pinned by tests:
 * <ul>
 * <li>A child that starts before its parent is clipped to start with the parent (clock skew
 *     or an eager client); one that ends at or before its parent's start is left out.</li>
 * <li>{@link AsyncPolicy#FOLLOW} (default): a child that ends after its parent, or whose own
 *     descendants do, is asynchronous work that outlived its caller. The trace's end is the
 *     latest end of any span, and the walk first follows the async chain that finishes last.
 *     Each span's "completion" (its end or its descendants' latest end) is what is compared. A
 *     FOLLOWS_FROM child that completes within its parent was not waited for and is never on the
 *     path. A section is only attributed to a span while it is open: when the path passes
 *     through an async child that started after its caller had already ended, the time in
 *     between is a gap that belongs to no span.</li>
 * <li>{@link AsyncPolicy#CLIP} (Jaeger UI): FOLLOWS_FROM subtrees are ignored and each child is
 *     clipped to its parent's window, dropped when entirely outside; the path ends with the root.</li>
 * <li>Ties: a child that ends exactly when the cursor is reached is eligible (Jaeger UI requires
 *     "strictly before", which breaks back-to-back sequential calls); among children finishing at
 *     the same time the later-starting one is taken, then the smaller span id.</li>
 * <li>Several roots (orphans become roots) are treated as children of a virtual trace span that
 *     owns no time: the path visits them in the same way, except that when no root finishes
 *     before the cursor, the root still open at the cursor is walked from there. Time when no
 *     root is open is a gap.</li>
 * </ul>
 *
 * <p>Cost: one pass down the tree for clipped windows, one pass up for completions, and a walk
 * that looks at every child at most once from a per-span list sorted by completion: O(n log n)
 * for n spans, iterative so deep traces do not overflow the stack.
 */
public final class CriticalPath {

    /** The path of a trace (sections in time order) and the window it covers. */
    public record Result(List<CriticalPathSection> sections, long startUs, long endUs) {
        public long durationUs() {
            return endUs - startUs;
        }

        public long pathUs() {
            long sum = 0;
            for (CriticalPathSection s : sections) {
                sum += s.lengthUs();
            }
            return sum;
        }
    }

    private CriticalPath() {}

    /** Computes the critical path of a trace; repairs (orphans, cycles) are reported to {@code warn}. */
    public static Result compute(Trace trace, AsyncPolicy policy, java.util.function.Consumer<String> warn) {
        return compute(SpanTree.build(trace, warn), policy);
    }

    static Result compute(SpanTree tree, AsyncPolicy policy) {
        if (tree.spans.isEmpty()) {
            return new Result(List.of(), 0, 0);
        }
        Map<String, Window> windows = windows(tree, policy);

        // Candidates of the virtual trace span are the roots; of every span, its eligible children.
        long traceStart = Long.MAX_VALUE;
        long traceEnd = Long.MIN_VALUE;
        for (Span root : tree.roots) {
            Window w = windows.get(root.spanId());
            traceStart = Math.min(traceStart, w.start);
            traceEnd = Math.max(traceEnd, w.completion);
        }

        List<CriticalPathSection> backwards = new ArrayList<>();
        ArrayDeque<Frame> stack = new ArrayDeque<>();
        stack.push(new Frame(null, null, sorted(tree.roots, windows), traceEnd));
        while (!stack.isEmpty()) {
            Frame frame = stack.peek();
            Span next = frame.span == null ? frame.nextRoot(windows) : frame.nextCandidate(windows);
            if (next == null) {
                if (frame.span != null) {
                    emit(backwards, frame.span, frame.window.start, Math.min(frame.cursor, frame.window.end));
                }
                stack.pop();
                if (!stack.isEmpty()) {
                    stack.peek().cursor = frame.window.start;
                }
                continue;
            }
            Window child = windows.get(next.spanId());
            if (frame.span != null) {
                emit(backwards, frame.span, child.completion, Math.min(frame.cursor, frame.window.end));
            }
            // Only a root (picked by nextRoot) can complete after the cursor: it is walked from the cursor.
            stack.push(new Frame(next, child, eligibleChildren(tree, next, child, windows, policy),
                    Math.min(child.completion, frame.cursor)));
        }
        Collections.reverse(backwards);
        return new Result(List.copyOf(backwards), traceStart, traceEnd);
    }

    /** Appends a section (walking backwards), merging with the previous one of the same span. */
    private static void emit(List<CriticalPathSection> backwards, Span span, long start, long end) {
        if (start >= end) {
            return;
        }
        if (!backwards.isEmpty()) {
            CriticalPathSection last = backwards.getLast();
            if (last.spanId().equals(span.spanId()) && last.startUs() == end) {
                backwards.set(backwards.size() - 1,
                        new CriticalPathSection(span.spanId(), span.function(), span.operation(), start, last.endUs()));
                return;
            }
        }
        backwards.add(new CriticalPathSection(span.spanId(), span.function(), span.operation(), start, end));
    }

    /** Clipped window and completion of a span on the path; absent for spans left out. */
    private record Window(long start, long end, long completion) {}

    private static Map<String, Window> windows(SpanTree tree, AsyncPolicy policy) {
        Map<String, Window> windows = new HashMap<>();
        List<Span> order = tree.depthFirst();
        for (Span span : order) {
            Span parent = tree.parent(span);
            if (parent == null) {
                windows.put(span.spanId(), new Window(span.startUs(), span.endUs(), span.endUs()));
                continue;
            }
            Window p = windows.get(parent.spanId());
            if (p == null) {
                continue; // parent left out: so is its subtree
            }
            long start = Math.max(span.startUs(), p.start);
            if (span.endUs() <= p.start && span.startUs() < p.start) {
                continue; // entirely before the parent: clock skew beyond repair
            }
            if (policy == AsyncPolicy.CLIP) {
                if (span.refType() == Span.RefType.FOLLOWS_FROM || span.startUs() >= p.end) {
                    continue; // not waited for, or entirely after the parent
                }
                long end = Math.min(span.endUs(), p.end);
                windows.put(span.spanId(), new Window(start, end, end));
            } else {
                windows.put(span.spanId(), new Window(start, span.endUs(), span.endUs()));
            }
        }
        if (policy == AsyncPolicy.FOLLOW) {
            // Completion: children before parents when walking the depth-first order backwards.
            for (int i = order.size() - 1; i >= 0; i--) {
                Span span = order.get(i);
                Window w = windows.get(span.spanId());
                Span parent = tree.parent(span);
                if (w == null || parent == null) {
                    continue;
                }
                Window p = windows.get(parent.spanId());
                if (w.completion > p.completion) {
                    windows.put(parent.spanId(), new Window(p.start, p.end, w.completion));
                }
            }
        }
        return windows;
    }

    private static List<Span> eligibleChildren(SpanTree tree, Span span, Window window,
                                               Map<String, Window> windows, AsyncPolicy policy) {
        List<Span> eligible = new ArrayList<>();
        for (Span child : tree.children(span)) {
            Window w = windows.get(child.spanId());
            if (w == null) {
                continue;
            }
            boolean outlivesParent = w.completion > window.end;
            if (policy == AsyncPolicy.CLIP || outlivesParent || child.refType() != Span.RefType.FOLLOWS_FROM) {
                eligible.add(child);
            }
        }
        return sorted(eligible, windows);
    }

    /** Ascending by completion, then start, then descending id: the best candidate is last. */
    private static List<Span> sorted(List<Span> spans, Map<String, Window> windows) {
        List<Span> list = new ArrayList<>(spans.size());
        for (Span s : spans) {
            if (windows.containsKey(s.spanId())) {
                list.add(s);
            }
        }
        list.sort(Comparator.<Span>comparingLong(s -> windows.get(s.spanId()).completion)
                .thenComparingLong(s -> windows.get(s.spanId()).start)
                .thenComparing(Span::spanId, Comparator.reverseOrder()));
        return list;
    }

    /** A span being walked: its candidates and the cursor, which only moves back in time. */
    private static final class Frame {
        final Span span;
        final Window window;
        final List<Span> candidates;
        final boolean[] used;
        int next;
        long cursor;

        Frame(Span span, Window window, List<Span> candidates, long cursor) {
            this.span = span;
            this.window = window == null ? new Window(Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE) : window;
            this.candidates = candidates;
            this.next = candidates.size() - 1;
            this.used = span == null ? new boolean[candidates.size()] : null;
            this.cursor = cursor;
        }

        /** The last-finishing unused candidate that finishes at or before the cursor, or null. */
        Span nextCandidate(Map<String, Window> windows) {
            while (next >= 0 && windows.get(candidates.get(next).spanId()).completion > cursor) {
                next--; // finishes after the cursor; the cursor only moves back, so never again
            }
            return next < 0 ? null : candidates.get(next--);
        }

        /**
         * For the virtual trace span: roots are independent pieces of one trace (orphans), so
         * when none finishes before the cursor, the root still open at the cursor is taken and
         * walked from the cursor; time is thus never left uncovered while some root was open.
         */
        Span nextRoot(Map<String, Window> windows) {
            Span best = null;
            long bestKey = Long.MIN_VALUE;
            int bestIndex = -1;
            for (int i = candidates.size() - 1; i >= 0; i--) { // best-first order, so ties keep the first seen
                Span root = candidates.get(i);
                Window w = windows.get(root.spanId());
                if (used[i] || !(w.start < cursor || w.completion <= cursor)) {
                    continue;
                }
                long key = Math.min(w.completion, cursor);
                if (key > bestKey) {
                    best = root;
                    bestKey = key;
                    bestIndex = i;
                }
            }
            if (best != null) {
                used[bestIndex] = true;
            }
            return best;
        }
    }
}
