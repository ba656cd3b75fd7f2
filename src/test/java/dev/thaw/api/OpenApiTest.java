package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.thaw.api.ApiFixture.Answer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code openapi.yaml} against the route table the server is built from: every documented
 * operation is routed and every route is documented, path parameters are declared, and every
 * {@code $ref} resolves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiTest {
    static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");

    final ApiFixture api = new ApiFixture();
    final JsonNode doc;

    OpenApiTest() throws IOException {
        doc = new YAMLMapper().readTree(SystemService.openapi());
    }

    @AfterAll
    void close() {
        api.close();
    }

    /** "METHOD /path/{param}" for every operation in the document. */
    private Set<String> documented() {
        Set<String> ops = new TreeSet<>();
        doc.path("paths").properties().forEach(p -> p.getValue().properties().forEach(op -> {
            if (HTTP_METHODS.contains(op.getKey())) ops.add(op.getKey().toUpperCase(Locale.ROOT) + " " + p.getKey());
        }));
        return ops;
    }

    private Set<String> routed() {
        Set<String> ops = new TreeSet<>();
        api.api.endpoints().forEach(e -> ops.add(e.method().text() + " " + e.path()));
        return ops;
    }

    @Test
    void isAnOpenApi3Document() {
        assertTrue(doc.path("openapi").asText().startsWith("3."), doc.path("openapi").asText());
        assertFalse(doc.path("info").path("title").asText().isEmpty());
    }

    @Test
    void documentsExactlyTheRoutedOperations() {
        Set<String> documented = documented();
        Set<String> routed = routed();
        assertTrue(routed.size() >= 16, "the whole table is there: " + routed);
        Set<String> undocumented = new TreeSet<>(routed);
        undocumented.removeAll(documented);
        Set<String> unrouted = new TreeSet<>(documented);
        unrouted.removeAll(routed);
        assertEquals(Set.of(), undocumented, "routed but not in openapi.yaml");
        assertEquals(Set.of(), unrouted, "in openapi.yaml but not routed");
    }

    @Test
    void everyDocumentedOperationReachesItsHandler() {
        for (String op : documented()) {
            String method = op.substring(0, op.indexOf(' '));
            String path = ApiProtocolTest.concrete(op.substring(op.indexOf(' ') + 1));
            Answer a = api.method(method, path);
            assertNotEquals(405, a.status(), op + ": " + a);
            if (a.status() == 404) {
                assertFalse(a.json().path("error").path("message").asText().startsWith("no route for"), op + ": " + a);
            }
        }
    }

    @Test
    void everyOperationDeclaresItsPathParametersAndAnswers() {
        Pattern param = Pattern.compile("\\{([^}]+)}");
        doc.path("paths").properties().forEach(p -> {
            List<JsonNode> shared = resolveAll(p.getValue().path("parameters"));
            p.getValue().properties().forEach(op -> {
                if (!HTTP_METHODS.contains(op.getKey())) return;
                String where = op.getKey() + " " + p.getKey();
                List<JsonNode> params = new ArrayList<>(shared);
                params.addAll(resolveAll(op.getValue().path("parameters")));
                Matcher m = param.matcher(p.getKey());
                while (m.find()) {
                    String name = m.group(1);
                    assertTrue(params.stream().anyMatch(x -> x.path("in").asText().equals("path")
                            && x.path("name").asText().equals(name) && x.path("required").asBoolean()),
                            where + " does not declare its path parameter " + name);
                }
                JsonNode responses = op.getValue().path("responses");
                assertTrue(responses.properties().stream().anyMatch(r -> r.getKey().startsWith("2")), where + " has no 2xx answer");
                assertTrue(responses.has("405"), where + " does not document its 405");
                assertFalse(op.getValue().path("operationId").asText().isEmpty(), where + " has no operationId");
            });
        });
    }

    @Test
    void everyReferenceResolves() {
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertTrue(refs.size() > 20, "refs: " + refs.size());
        for (String ref : refs) {
            assertTrue(ref.startsWith("#/"), ref);
            assertFalse(doc.at(ref.substring(1)).isMissingNode(), "unresolved $ref " + ref);
        }
        JsonNode error = doc.at("/components/schemas/Error/properties/error");
        assertEquals(List.of("code", "message"), List.of(error.path("required").get(0).asText(), error.path("required").get(1).asText()));
    }

    private List<JsonNode> resolveAll(JsonNode params) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : params) out.add(p.has("$ref") ? doc.at(p.path("$ref").asText().substring(1)) : p);
        return out;
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if (e.getKey().equals("$ref")) refs.add(e.getValue().asText());
                else collectRefs(e.getValue(), refs);
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, refs));
        }
    }
}
