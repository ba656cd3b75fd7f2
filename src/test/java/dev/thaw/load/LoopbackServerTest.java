package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LoopbackServerTest {
    static final String ANSWER = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"result\":{}}";

    @Test
    void answersPipelinedRequestsAndBodiesSplitAcrossWrites() throws Exception {
        try (LoopbackServer server = LoopbackServer.start(0, 2);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            OutputStream out = s.getOutputStream();
            String post = "POST /functions/x/invoke HTTP/1.1\r\nHost: a\r\nContent-LENGTH: 10\r\n\r\n0123456789";
            String get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
            byte[] all = (post + get + post).getBytes(StandardCharsets.US_ASCII);
            out.write(all, 0, 60);
            out.flush();
            Thread.sleep(20);
            out.write(all, 60, all.length - 60);
            out.flush();
            byte[] expected = (ANSWER + ANSWER + ANSWER).getBytes(StandardCharsets.US_ASCII);
            InputStream in = s.getInputStream();
            assertEquals(new String(expected, StandardCharsets.US_ASCII),
                    new String(in.readNBytes(expected.length), StandardCharsets.US_ASCII));
            assertEquals(3, server.requests());
        }
    }

    @Test
    void oversizedHeadersAreRefused() throws Exception {
        try (LoopbackServer server = LoopbackServer.start(0, 1);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nX: " + "a".repeat(20_000)).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(reply.startsWith("HTTP/1.1 431"), reply);
        }
    }
}
