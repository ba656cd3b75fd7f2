package dev.thaw.trace;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads trace files in Jaeger or Zipkin v2 JSON and detects which one a text is.
 *
 * <p>Jaeger: the query API's {@code {"data": [trace…]}}, a single trace object
 * {@code {"traceID", "spans", "processes"}}, or an array of such traces. Zipkin v2: an array of
 * spans, or the API's array of traces (an array of span arrays). Spans of the same trace id are
 * merged across files, so a trace exported piecewise by several services is analysed whole.
 */
public final class TraceReader {
    public enum Format { JAEGER, ZIPKIN }

    /** What one source held. */
    public record Result(Format format, List<Trace> traces) {}

    private TraceReader() {}

    public static Result read(Path file) {
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new TraceFormatException(file + ": no such file");
        } catch (IOException e) {
            throw new TraceFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(name, text);
    }

    /** Parses a text; {@code source} names it in error messages (a file name, a URL). */
    public static Result parse(String source, String text) {
        if (text.isBlank()) {
            throw new TraceFormatException(source + ": empty file");
        }
        JsonNode root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new TraceFormatException(source + ": " + e.getMessage(), e);
        }
        try {
            return switch (detect(root)) {
                case JAEGER -> new Result(Format.JAEGER, JaegerFormat.parse(root));
                case ZIPKIN -> new Result(Format.ZIPKIN, ZipkinFormat.parse(root));
            };
        } catch (TraceFormatException e) {
            throw new TraceFormatException(source + ": " + e.getMessage(), e);
        }
    }

    static Format detect(JsonNode root) {
        if (root.isObject()) {
            if (root.has("data") || root.has("spans") || root.has("traceID")) {
                return Format.JAEGER;
            }
            throw new TraceFormatException("neither Jaeger nor Zipkin v2 JSON: an object without \"data\" or \"spans\"");
        }
        if (root.isArray()) {
            JsonNode first = root.isEmpty() ? null : root.get(0);
            if (first == null) {
                throw new TraceFormatException("no traces (an empty array)");
            }
            if (first.isArray()) {
                return Format.ZIPKIN;
            }
            if (first.isObject() && first.has("spans")) {
                return Format.JAEGER;
            }
            if (first.isObject() && (first.has("traceId") || first.has("id") || first.has("localEndpoint"))) {
                return Format.ZIPKIN;
            }
            if (first.isObject() && first.has("traceID")) {
                throw new TraceFormatException("an array of Jaeger spans without their trace; expected {\"data\": [{\"traceID\", \"spans\", \"processes\"}]}");
            }
        }
        throw new TraceFormatException("neither Jaeger nor Zipkin v2 JSON");
    }

    /**
     * Merges traces with the same id (from several files or several entries of one file),
     * keeping first-seen order of traces and spans.
     */
    public static List<Trace> merge(List<Trace> traces) {
        Map<String, List<Span>> byId = new LinkedHashMap<>();
        for (Trace trace : traces) {
            byId.computeIfAbsent(trace.traceId(), id -> new ArrayList<>()).addAll(trace.spans());
        }
        List<Trace> merged = new ArrayList<>(byId.size());
        byId.forEach((id, spans) -> merged.add(new Trace(id, spans)));
        return merged;
    }
}
