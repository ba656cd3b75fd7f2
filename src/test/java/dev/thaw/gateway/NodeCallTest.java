package dev.thaw.gateway;

import dev.thaw.api.ApiServer;
import dev.thaw.platform.FakePlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link NodeCall} against a stub node on loopback that does, per request, what the test scripts:
 * answer, close the connection as soon as it has the request's headers (a node dropping a pooled
 * keep-alive connection just as the gateway reuses it), or close after it took the body (a node
 * dying mid-call). The stub acts on the request itself, not on a timer, so the race is hit every
 * time.
 */
class NodeCallTest {
    enum Act { ANSWER, CLOSE_BEFORE_BODY, CLOSE_AFTER_BODY }

    final BlockingQueue<Act> script = new LinkedBlockingQueue<>();
    final List<String> bodies = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    ServerSocket server;
    Thread acceptor;

    @BeforeEach
    void start() throws IOException {
        server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    connections.incrementAndGet();
                    Thread.ofPlatform().daemon().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        http.close();
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                String head = head(in);
                if (head == null) return;
                Act act = script.poll();
                if (act == null) act = Act.ANSWER;
                if (act == Act.CLOSE_BEFORE_BODY) return;
                String lower = head.toLowerCase(Locale.ROOT);
                if (lower.contains("expect: 100-continue")) out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                int length = Integer.parseInt(lower.replaceAll("(?s).*content-length: *(\\d+).*", "$1"));
                bodies.add(new String(in.readNBytes(length), StandardCharsets.UTF_8));
                if (act == Act.CLOSE_AFTER_BODY) return;
                byte[] reply = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + reply.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(reply);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /** A request's head, or null at end of stream. */
    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c, matched = 0;
        while ((c = in.read()) >= 0) {
            b.write(c);
            matched = (c == '\r' || c == '\n') && "\r\n\r\n".charAt(matched) == c ? matched + 1 : 0;
            if (matched == 4) return b.toString(StandardCharsets.US_ASCII);
        }
        return null;
    }

    HttpRequest.Builder request() {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/functions/f/invoke"))
                .timeout(Duration.ofSeconds(30));
    }

    @Test
    void aPooledConnectionTheNodeClosesBeforeTakingTheCallIsRetriedOnAFreshOneAndRunsOnce() throws Exception {
        assertInstanceOf(NodeCall.Outcome.Answered.class, NodeCall.send(http, request(), "{\"n\":1}".getBytes()));
        assertEquals(1, connections.get());
        script.add(Act.CLOSE_BEFORE_BODY); // the next request comes on the pooled connection; the node drops it
        NodeCall.Outcome o = NodeCall.send(http, request(), "{\"n\":2}".getBytes());
        NodeCall.Outcome.Answered a = assertInstanceOf(NodeCall.Outcome.Answered.class, o, o.toString());
        assertEquals(200, a.response().statusCode());
        assertEquals(2, connections.get(), "the second try opened a fresh connection");
        assertEquals(List.of("{\"n\":1}", "{\"n\":2}"), bodies, "each call reached the node once");
    }

    @Test
    void aNodeThatClosesAfterTakingTheBodyFailsTheCallWithoutASecondTry() throws Exception {
        script.add(Act.CLOSE_AFTER_BODY);
        NodeCall.Outcome o = NodeCall.send(http, request(), "{\"n\":1}".getBytes());
        assertInstanceOf(NodeCall.Outcome.Failed.class, o, o.toString());
        assertEquals(List.of("{\"n\":1}"), bodies);
        assertEquals(1, connections.get(), "never sent again");
    }

    @Test
    void aNodeThatKeepsClosingBeforeTheBodyIsPassedOverAfterAFewTries() throws Exception {
        for (int i = 0; i < NodeCall.STALE_TRIES; i++) script.add(Act.CLOSE_BEFORE_BODY);
        NodeCall.Outcome o = NodeCall.send(http, request(), "{}".getBytes());
        NodeCall.Outcome.NotTaken n = assertInstanceOf(NodeCall.Outcome.NotTaken.class, o, o.toString());
        assertTrue(n.reason().contains("closed its connection"), n.reason());
        assertEquals(List.of(), bodies, "the node never had the call");
        assertEquals(NodeCall.STALE_TRIES, connections.get());
    }

    @Test
    void anEmptyBodyIsSentAsTheEmptyEventTheNodeWouldReadItAs() throws Exception {
        assertInstanceOf(NodeCall.Outcome.Answered.class, NodeCall.send(http, request(), new byte[0]));
        assertEquals(List.of("{}"), bodies);
    }

    /**
     * The port is held by a bound socket that never listens, so no other test or process can take
     * it and the connect is refused every time. (Closing the stub's listening socket instead let a
     * connect race the close: CI once saw that call answered 200.)
     */
    @Test
    void aNodeNobodyListensOnIsUnreachable() throws Exception {
        try (Socket held = new Socket()) {
            held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            HttpRequest.Builder call = HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + held.getLocalPort() + "/functions/f/invoke"))
                    .timeout(Duration.ofSeconds(30));
            NodeCall.Outcome o = NodeCall.send(http, call, "{}".getBytes());
            assertEquals(new NodeCall.Outcome.NotTaken("unreachable"), o);
        }
        assertEquals(0, connections.get(), "the stub node was never reached");
    }

    /** The real node server answers 100 Continue when its invoke handler reads the body, so calls go through. */
    @Test
    void aRealNodeTakesCallsThatAskForContinueAndOneThatStoppedIsNeverFailedMidCall() throws Exception {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("hello");
            ApiServer api = new ApiServer(fake.platform, new InetSocketAddress("127.0.0.1", 0), 1 << 20).start();
            HttpRequest.Builder call = HttpRequest.newBuilder(URI.create(api.url() + "/functions/hello/invoke"))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json");
            for (byte[] body : List.of("{\"x\": 1}".getBytes(), new byte[0])) {
                NodeCall.Outcome o = NodeCall.send(http, call, body);
                NodeCall.Outcome.Answered a = assertInstanceOf(NodeCall.Outcome.Answered.class, o, o.toString());
                assertEquals(200, a.response().statusCode(), new String(a.response().body()));
            }
            api.close(); // the pooled connection is closed under the client: whichever way the race goes, not Failed
            NodeCall.Outcome o = NodeCall.send(http, call, "{}".getBytes());
            assertInstanceOf(NodeCall.Outcome.NotTaken.class, o, o.toString());
        }
    }

    /**
     * A node that answers before it asks for the body (a function it lacks, a body over its limit)
     * never gets that body; the next calls on the same client must still be read as calls.
     */
    @Test
    void aRealNodeThatAnswersBeforeAskingForTheBodyLeavesItsConnectionsUsable() throws Exception {
        try (FakePlatform fake = new FakePlatform()) {
            fake.deploy("hello");
            ApiServer api = new ApiServer(fake.platform, new InetSocketAddress("127.0.0.1", 0), 64).start();
            try {
                for (int round = 0; round < 3; round++) {
                    assertEquals(404, answered(NodeCall.send(http, invoke(api, "nope"), "{\"x\": 1}".getBytes())).statusCode());
                    assertEquals(413, answered(NodeCall.send(http, invoke(api, "hello"), ("{\"x\": \"" + "a".repeat(100) + "\"}").getBytes())).statusCode());
                    var ok = answered(NodeCall.send(http, invoke(api, "hello"), "{\"name\": \"r\"}".getBytes()));
                    assertEquals(200, ok.statusCode(), new String(ok.body()));
                }
            } finally {
                api.close();
            }
        }
    }

    private static HttpRequest.Builder invoke(ApiServer api, String function) {
        return HttpRequest.newBuilder(URI.create(api.url() + "/functions/" + function + "/invoke"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json");
    }

    private static java.net.http.HttpResponse<byte[]> answered(NodeCall.Outcome o) {
        return assertInstanceOf(NodeCall.Outcome.Answered.class, o, o.toString()).response();
    }
}
