package dev.thaw.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.platform.FakePlatform;
import dev.thaw.platform.Limits;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The real {@link ApiServer} on port 0 over a {@link FakePlatform}, and a client for it: what the
 * API tests talk to. Requests go through {@link HttpClient} (the daemon's own client speaks it
 * too) or, for what a well-behaved client cannot send, a raw socket.
 */
final class ApiFixture implements AutoCloseable {
    static final long MAX_BODY = 4096;

    /** One answer: status, headers and body. */
    record Answer(int status, HttpHeaders headers, String body) {
        JsonNode json() {
            return Json.parse(body);
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** The error body's code, or fails if this is not the API's error body. */
        String errorCode() {
            JsonNode e = json().path("error");
            if (!e.path("code").isTextual() || !e.path("message").isTextual()) {
                throw new AssertionError("not an error body: " + body);
            }
            return e.path("code").asText();
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    final FakePlatform fake;
    final ApiServer api;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiFixture() {
        this(new FakePlatform());
    }

    ApiFixture(Limits limits) {
        this(new FakePlatform(limits));
    }

    private ApiFixture(FakePlatform fake) {
        this(fake, null);
    }

    /** An API that needs {@code token} on every route but {@code GET /healthz}. */
    static ApiFixture withToken(dev.thaw.common.AuthToken token) {
        return new ApiFixture(new FakePlatform(), token);
    }

    private ApiFixture(FakePlatform fake, dev.thaw.common.AuthToken token) {
        this(fake, token, false);
    }

    /** An API that deploys by path only from the fake platform's own source directory. */
    static ApiFixture withFunctionsRoot() {
        return new ApiFixture(new FakePlatform(), null, true);
    }

    private ApiFixture(FakePlatform fake, dev.thaw.common.AuthToken token, boolean rooted) {
        this.fake = fake;
        java.util.List<java.nio.file.Path> roots = rooted ? java.util.List.of(fake.functionDir("x", "{\"name\": \"x\"}").getParent())
                : java.util.List.of();
        this.api = new ApiServer(fake.platform, new InetSocketAddress("127.0.0.1", 0), MAX_BODY, token, roots).start();
    }

    URI uri(String path) {
        return URI.create(api.url() + path);
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Answer post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    Answer put(String path, String contentType, byte[] body) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    Answer delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    Answer method(String method, String path) {
        return send(HttpRequest.newBuilder(uri(path)).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    Answer send(HttpRequest.Builder request) {
        return sendAsync(request).join();
    }

    CompletableFuture<Answer> sendAsync(HttpRequest.Builder request) {
        return http.sendAsync(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Answer(r.statusCode(), r.headers(), r.body()));
    }

    /**
     * Sends {@code request} as it is on a fresh connection and reads one answer: its status line,
     * headers (names lower-cased) and the {@code Content-Length} bytes of body.
     */
    RawAnswer raw(String request) {
        try (Socket s = new Socket("127.0.0.1", api.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String statusLine = line(in);
            Map<String, String> headers = new TreeMap<>();
            for (String h; !(h = line(in)).isEmpty(); ) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).trim().toLowerCase(), h.substring(colon + 1).trim());
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            return new RawAnswer(statusLine, headers, new String(in.readNBytes(length), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record RawAnswer(String statusLine, Map<String, String> headers, String body) {
        int status() {
            return Integer.parseInt(statusLine.split(" ")[1]);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c == -1) throw new IOException("connection closed inside a line: " + b);
            if (c != '\r') b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** A tar of a function directory (function.json and handler.py), as {@code thaw deploy} uploads one. */
    static byte[] tar(Path dir) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String name : new String[]{"function.json", "handler.py"}) {
            byte[] data = Files.readAllBytes(dir.resolve(name));
            byte[] h = new byte[512];
            ascii(h, 0, name);
            ascii(h, 100, "0000644");
            ascii(h, 108, "0000000");
            ascii(h, 116, "0000000");
            ascii(h, 124, String.format("%011o", data.length));
            ascii(h, 136, "00000000000");
            h[156] = '0';
            ascii(h, 257, "ustar");
            ascii(h, 263, "00");
            for (int i = 148; i < 156; i++) h[i] = ' ';
            int sum = 0;
            for (byte b : h) sum += b & 0xff;
            ascii(h, 148, String.format("%06o", sum));
            h[154] = 0;
            out.write(h);
            out.write(data);
            out.write(new byte[(512 - data.length % 512) % 512]);
        }
        out.write(new byte[1024]);
        return out.toByteArray();
    }

    private static void ascii(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    @Override
    public void close() {
        api.close();
        fake.close();
    }
}
