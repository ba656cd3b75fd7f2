package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.guest.GuestImage;
import dev.thaw.platform.Platform;
import dev.thaw.platform.QemuPlatform;
import dev.thaw.vm.Accel;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A deploy whose function.json is wrong is refused before any VM is involved, so these run
 * without QEMU: a platform over an empty data directory and a guest image that is never booted.
 */
class ApiServerDeployTest {
    @TempDir
    Path tmp;
    private Platform platform;
    private ApiServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path run = Files.createDirectories(tmp.resolve("run"));
        platform = QemuPlatform.open(Platform.Config.defaults(data, run, tmp.resolve("cache")),
                new GuestImage("never-booted", tmp.resolve("image"), "0"), Accel.TCG);
        server = new ApiServer(platform, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1 << 20).start();
    }

    @AfterEach
    void stop() {
        server.close();
        platform.close();
    }

    private static byte[] tar(String functionJson) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (String[] f : new String[][]{{"function.json", functionJson}, {"handler.py", "def handle(e):\n    return {}\n"}}) {
                byte[] b = f[1].getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(f[0]);
                e.setSize(b.length);
                out.putArchiveEntry(e);
                out.write(b);
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private HttpResponse<String> put(String contentType, byte[] body) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + "/functions/f"))
                .header("Content-Type", contentType).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode error(HttpResponse<String> r) {
        assertEquals(400, r.statusCode(), r.body());
        JsonNode err = Json.parse(r.body()).path("error");
        assertEquals("bad_request", err.path("code").asText(), r.body());
        return err;
    }

    @Test
    void tarWithAnUnknownFieldIsABadRequestNamingIt() throws Exception {
        JsonNode err = error(put("application/x-tar", tar("{\"name\": \"f\", \"min_wram\": 1}")));
        assertEquals("unknown field \"min_wram\" in function.json; did you mean \"min_warm\"?", err.path("message").asText());
    }

    @Test
    void tarWithAWrongTypeIsABadRequestNamingTheField() throws Exception {
        JsonNode err = error(put("application/x-tar", tar("{\"name\": \"f\", \"memory_mib\": \"big\"}")));
        assertTrue(err.path("message").asText().startsWith("field \"memory_mib\" in function.json must be a whole number"), err.toString());
    }

    @Test
    void directoryWithAnUnknownFieldIsABadRequestNamingIt() throws Exception {
        Path fn = Files.createDirectories(tmp.resolve("fn"));
        Files.writeString(fn.resolve("function.json"), "{\"name\": \"f\", \"inputs\": {\"tset\": {}}}");
        Files.writeString(fn.resolve("handler.py"), "def handle(e):\n    return {}\n");
        byte[] body = Json.write(Json.object().put("path", fn.toString())).getBytes(StandardCharsets.UTF_8);
        JsonNode err = error(put("application/json", body));
        assertEquals("unknown field \"inputs.tset\" in " + fn.resolve("function.json") + "; did you mean \"inputs.test\"?",
                err.path("message").asText());
    }

    @Test
    void malformedTarIsABadRequest() throws Exception {
        error(put("application/x-tar", "not a tar at all, but long enough to fill a header block".repeat(20).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void metricsAreServedAsPrometheusText() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4", r.headers().firstValue("Content-Type").orElse(""));
        for (String line : r.body().split("\n")) {
            assertTrue(line.isEmpty() || line.startsWith("# HELP thaw_") || line.startsWith("# TYPE thaw_") || line.startsWith("thaw_"), line);
        }
    }
}
