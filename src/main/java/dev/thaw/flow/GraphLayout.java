package dev.thaw.flow;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A layered drawing of the function graph, left to right, for the HTML report.
 *
 * <p>Sugiyama-style in three steps, each kept simple because call graphs of a workflow are small
 * (tens of functions): (1) edges that close a cycle are found by depth-first search from the
 * entry functions and left out of the layering; (2) each function's layer is the length of the
 * longest call chain reaching it, so callers sit left of callees; (3) within a layer, functions
 * are ordered by the mean position of their neighbours (barycentre), sweeping right and left a few
 * times to untangle crossings. Ties keep input order, so the drawing is deterministic.
 */
final class GraphLayout {
    static final int NODE_W = 190;
    static final int NODE_H = 62;
    static final int GAP_X = 250; // room for an edge label between two columns
    static final int GAP_Y = 34;
    static final int MARGIN = 24;

    record Point(int x, int y) {}

    final Map<String, Point> positions = new LinkedHashMap<>();
    final Map<String, Integer> layer = new HashMap<>();
    final Set<List<String>> backEdges = new HashSet<>();
    int width;
    int height;

    /**
     * @param nodes functions in preference order (entries and heavier functions first)
     * @param edges caller, callee pairs
     */
    GraphLayout(List<String> nodes, List<List<String>> edges) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Map<String, Integer> inDegree = new HashMap<>();
        for (String n : nodes) {
            out.put(n, new ArrayList<>());
            inDegree.put(n, 0);
        }
        for (List<String> e : edges) {
            if (!e.get(0).equals(e.get(1)) && out.containsKey(e.get(0)) && out.containsKey(e.get(1))) {
                out.get(e.get(0)).add(e.get(1));
            }
        }
        findBackEdges(nodes, out);

        // Longest-path layering over the acyclic part (Kahn's order).
        for (var entry : out.entrySet()) {
            for (String to : entry.getValue()) {
                if (!backEdges.contains(List.of(entry.getKey(), to))) {
                    inDegree.merge(to, 1, Integer::sum);
                }
            }
        }
        ArrayDeque<String> ready = new ArrayDeque<>();
        for (String n : nodes) {
            layer.put(n, 0);
            if (inDegree.get(n) == 0) {
                ready.add(n);
            }
        }
        while (!ready.isEmpty()) {
            String n = ready.poll();
            for (String to : out.get(n)) {
                if (backEdges.contains(List.of(n, to))) {
                    continue;
                }
                layer.merge(to, layer.get(n) + 1, Math::max);
                if (inDegree.merge(to, -1, Integer::sum) == 0) {
                    ready.add(to);
                }
            }
        }

        int layers = layer.values().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
        List<List<String>> columns = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            columns.add(new ArrayList<>());
        }
        nodes.forEach(n -> columns.get(layer.get(n)).add(n));
        order(columns, out);

        int headroom = backEdges.isEmpty() ? 0 : 40; // edges back to earlier columns arc over the nodes
        int tallest = columns.stream().mapToInt(List::size).max().orElse(0);
        int fullHeight = tallest * NODE_H + Math.max(0, tallest - 1) * GAP_Y;
        for (int c = 0; c < columns.size(); c++) {
            List<String> column = columns.get(c);
            int columnHeight = column.size() * NODE_H + Math.max(0, column.size() - 1) * GAP_Y;
            int top = MARGIN + headroom + (fullHeight - columnHeight) / 2;
            for (int i = 0; i < column.size(); i++) {
                positions.put(column.get(i), new Point(MARGIN + c * (NODE_W + GAP_X), top + i * (NODE_H + GAP_Y)));
            }
        }
        width = 2 * MARGIN + layers * NODE_W + (layers - 1) * GAP_X;
        height = 2 * MARGIN + headroom + fullHeight;
    }

    private void findBackEdges(List<String> nodes, Map<String, List<String>> out) {
        Set<String> done = new HashSet<>();
        Set<String> onStack = new HashSet<>();
        for (String start : nodes) {
            if (done.contains(start)) {
                continue;
            }
            // Iterative DFS: a stack of (node, next child index).
            ArrayDeque<Object[]> stack = new ArrayDeque<>();
            stack.push(new Object[]{start, 0});
            onStack.add(start);
            while (!stack.isEmpty()) {
                Object[] top = stack.peek();
                String n = (String) top[0];
                int i = (Integer) top[1];
                List<String> next = out.get(n);
                if (i < next.size()) {
                    top[1] = i + 1;
                    String to = next.get(i);
                    if (onStack.contains(to)) {
                        backEdges.add(List.of(n, to));
                    } else if (!done.contains(to)) {
                        onStack.add(to);
                        stack.push(new Object[]{to, 0});
                    }
                } else {
                    stack.pop();
                    onStack.remove(n);
                    done.add(n);
                }
            }
        }
    }

    private void order(List<List<String>> columns, Map<String, List<String>> out) {
        Map<String, List<String>> in = new HashMap<>();
        out.forEach((from, tos) -> tos.forEach(to -> in.computeIfAbsent(to, k -> new ArrayList<>()).add(from)));
        for (int sweep = 0; sweep < 4; sweep++) {
            boolean rightwards = sweep % 2 == 0;
            for (int k = 1; k < columns.size(); k++) {
                int c = rightwards ? k : columns.size() - 1 - k;
                int neighbourColumn = rightwards ? c - 1 : c + 1;
                Map<String, Integer> index = new HashMap<>();
                List<String> neighbours = columns.get(neighbourColumn);
                for (int i = 0; i < neighbours.size(); i++) {
                    index.put(neighbours.get(i), i);
                }
                Map<String, List<String>> links = rightwards ? in : out;
                List<String> column = columns.get(c);
                Map<String, Double> centre = new HashMap<>();
                for (int i = 0; i < column.size(); i++) {
                    String n = column.get(i);
                    double sum = 0;
                    int count = 0;
                    for (String m : links.getOrDefault(n, List.of())) {
                        Integer at = index.get(m);
                        if (at != null) {
                            sum += at;
                            count++;
                        }
                    }
                    // Scale to the column's own index range so unlinked nodes keep their place.
                    double scale = neighbours.size() <= 1 ? 1 : (column.size() - 1.0) / (neighbours.size() - 1.0);
                    centre.put(n, count == 0 ? i : sum / count * scale);
                }
                List<String> sorted = new ArrayList<>(column);
                sorted.sort(Comparator.comparingDouble(centre::get));
                columns.set(c, sorted);
            }
        }
    }
}
