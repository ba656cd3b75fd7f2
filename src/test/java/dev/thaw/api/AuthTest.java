package dev.thaw.api;

import dev.thaw.client.DaemonClient;
import dev.thaw.client.DaemonException;
import dev.thaw.common.AuthToken;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code thaw serve --auth-token-file}: without the token every route but GET /healthz answers 401. */
class AuthTest {
    static final AuthToken TOKEN = new AuthToken("s3cret-token-0123456789");
    final ApiFixture api = ApiFixture.withToken(TOKEN);

    @AfterEach
    void close() {
        api.close();
    }

    @Test
    void everyRouteButHealthNeedsTheToken() {
        api.fake.deploy("hello");
        for (String path : new String[]{"/functions", "/functions/hello", "/instances", "/snapshots", "/metrics", "/traces", "/openapi.yaml"}) {
            ApiFixture.Answer a = api.get(path);
            assertEquals(401, a.status(), path + " " + a);
            assertEquals("unauthorized", a.errorCode(), path);
            assertTrue(a.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), path);
        }
        assertEquals(401, api.post("/functions/hello/invoke", "{}").status());
        assertEquals(401, api.delete("/functions/hello").status());
        assertEquals(200, api.get("/healthz").status(), "liveness probes need no token");
        assertEquals(1, api.fake.platform.functions().size(), "nothing was deleted");
    }

    @Test
    void theRightTokenIsLetThroughAndAWrongOneIsNot() {
        api.fake.deploy("hello");
        ApiFixture.Answer wrong = api.send(HttpRequest.newBuilder(api.uri("/functions")).header("Authorization", "Bearer s3cret-token-012345678X").GET());
        assertEquals(401, wrong.status());
        ApiFixture.Answer notBearer = api.send(HttpRequest.newBuilder(api.uri("/functions")).header("Authorization", "Basic czNjcmV0").GET());
        assertEquals(401, notBearer.status());
        ApiFixture.Answer right = api.send(HttpRequest.newBuilder(api.uri("/functions/hello/invoke"))
                .header("Authorization", TOKEN.bearer()).POST(HttpRequest.BodyPublishers.ofString("{\"x\": 1}")));
        assertEquals(200, right.status(), right.toString());
    }

    @Test
    void theClientSendsItsToken() {
        api.fake.deploy("hello");
        try (DaemonClient with = new DaemonClient(api.api.url(), DaemonClient.Timeouts.DEFAULT, TOKEN);
             DaemonClient without = new DaemonClient(api.api.url(), DaemonClient.Timeouts.DEFAULT, null)) {
            assertEquals("hello", with.function("hello").orElseThrow().path("name").asText());
            DaemonException e = assertThrows(DaemonException.class, () -> without.function("hello"));
            assertEquals(401, e.status());
        }
    }

    @Test
    void tokenFilesAreReadStrictly(@TempDir Path tmp) throws Exception {
        Path ok = Files.writeString(tmp.resolve("ok"), "s3cret-token-0123456789\n");
        assertTrue(AuthToken.read(ok).admits("Bearer s3cret-token-0123456789"));
        assertFalse(AuthToken.read(ok).admits("Bearer s3cret-token-012345678"));
        assertFalse(AuthToken.read(ok).admits(null));
        Path empty = Files.writeString(tmp.resolve("empty"), "");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AuthToken.read(empty)).getMessage().endsWith("is empty"));
        Path shortOne = Files.writeString(tmp.resolve("short"), "abc\n");
        assertThrows(IllegalArgumentException.class, () -> AuthToken.read(shortOne));
        Path twoLines = Files.writeString(tmp.resolve("two"), "s3cret-token-0123456789\nmore\n");
        assertThrows(IllegalArgumentException.class, () -> AuthToken.read(twoLines));
        assertFalse(TOKEN.toString().contains("s3cret"), "the token never shows in logs");
    }
}
