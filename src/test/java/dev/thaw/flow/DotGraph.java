package dev.thaw.flow;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A small parser for the DOT subset: {@code digraph ID { stmt* }} where a statement is an
 * attribute statement ({@code graph|node|edge [..];}), a node ({@code ID [..];}) or an edge
 * ({@code ID -> ID [..];}); IDs are bare words or double-quoted strings with escapes.
 */
public final class DotGraph {
    public final Set<String> nodes = new HashSet<>();
    public final Set<String> edges = new HashSet<>();
    private final List<String> tokens;
    private int at;

    private DotGraph(List<String> tokens) {
        this.tokens = tokens;
    }

    public static DotGraph parse(String dot) {
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
