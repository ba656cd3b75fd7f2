package dev.thaw.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges the Jaeger JSON of several nodes ({@code {"data": [{traceID, spans, processes}]}}) into
 * one document with one entry per trace id: a call that crossed nodes (a function on one node
 * calling a function the gateway placed on another, or a client's trace that reached several)
 * becomes one trace again. Process ids are local to a node's answer ({@code p1}, {@code p2}), so
 * each node's are prefixed with the node's position before they are combined.
 */
final class TraceMerge {
    private TraceMerge() {}

    static byte[] merge(List<byte[]> bodies) {
        Map<String, ObjectNode> byId = new LinkedHashMap<>();
        int node = 0;
        for (byte[] body : bodies) {
            String prefix = "n" + node++ + "-";
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(body);
            } catch (IOException e) {
                continue; // one node's unreadable answer does not hide the others'
            }
            JsonNode data = root.has("data") ? root.get("data") : root.has("traceID") ? Json.MAPPER.createArrayNode().add(root) : root;
            if (!data.isArray()) continue;
            for (JsonNode t : data) {
                if (!t.hasNonNull("traceID")) continue;
                ObjectNode into = byId.computeIfAbsent(t.get("traceID").asText(), id -> {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    o.put("traceID", id);
                    o.putArray("spans");
                    o.putObject("processes");
                    return o;
                });
                for (JsonNode s : t.path("spans")) {
                    ObjectNode span = ((ObjectNode) s).deepCopy();
                    if (span.hasNonNull("processID")) span.put("processID", prefix + span.get("processID").asText());
                    ((ArrayNode) into.get("spans")).add(span);
                }
                t.path("processes").properties().forEach(e -> ((ObjectNode) into.get("processes")).set(prefix + e.getKey(), e.getValue()));
            }
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode data = out.putArray("data");
        byId.values().forEach(data::add);
        try {
            return Json.MAPPER.writeValueAsBytes(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
