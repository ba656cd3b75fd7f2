package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ResponseParserTest {
    final Reply reply = new Reply();

    int parse(String text, boolean eof) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return ResponseParser.parse(b, b.length, eof, reply.reset());
    }

    String body() {
        return new String(reply.body, reply.bodyStart, reply.bodyEnd - reply.bodyStart, StandardCharsets.UTF_8);
    }

    @Test
    void contentLengthResponse() throws Exception {
        String r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 13\r\n\r\n{\"result\":{}}";
        assertEquals(r.length(), parse(r, false));
        assertEquals(200, reply.status);
        assertEquals("{\"result\":{}}", body());
        assertTrue(!reply.close);
    }

    @Test
    void incompleteUntilEveryByteIsIn() throws Exception {
        String r = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"result\":{}}";
        for (int cut = 0; cut < r.length(); cut++) {
            assertEquals(-1, parse(r.substring(0, cut), false), "cut at " + cut);
        }
    }

    @Test
    void chunkedBodyIsDecoded() throws Exception {
        String r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nA;ext=1\r\n1, \"b\": 2}\r\n0\r\nX-Trailer: y\r\n\r\n";
        assertEquals(r.length(), parse(r, false));
        assertEquals("{\"a\":1, \"b\": 2}", body());
        assertEquals(-1, parse(r.substring(0, r.length() - 2), false));
    }

    @Test
    void interimResponsesAreSkipped() throws Exception {
        String r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        assertEquals(r.length(), parse(r, false));
        assertEquals(204, reply.status);
    }

    @Test
    void rejectionCarriesRetryAfterAndErrorCode() throws Exception {
        String body = "{\"error\":{\"message\":\"busy\",\"code\":\"overloaded\"}}";
        String r = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nConnection: close\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body;
        parse(r, false);
        reply.scanBody();
        assertEquals(429, reply.status);
        assertEquals(3, reply.retryAfterSeconds);
        assertTrue(reply.close);
        assertEquals("overloaded", reply.errorCode());
    }

    @Test
    void bodyWithoutLengthEndsAtEof() throws Exception {
        String r = "HTTP/1.0 200 OK\r\n\r\nhello";
        assertEquals(-1, parse(r, false));
        assertEquals(r.length(), parse(r, true));
        assertEquals("hello", body());
        assertTrue(reply.close);
    }

    @Test
    void malformedResponsesAreProtocolErrors() {
        assertThrows(ResponseParser.ProtocolException.class, () -> parse("SSH-2.0-OpenSSH\r\n\r\n", false));
        assertThrows(ResponseParser.ProtocolException.class, () -> parse("HTTP/1.1 2x0 OK\r\n\r\n", false));
    }

    @Test
    void aStreamThatEndsEarlyIsTruncatedNotMalformed() {
        assertThrows(java.io.EOFException.class, () -> parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", true));
        assertThrows(java.io.EOFException.class, () -> parse("", true));
        assertThrows(java.io.EOFException.class, () -> parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true));
    }

    @Test
    void scanFindsTopLevelFieldsOnly() throws Exception {
        String body = "{\"result\":{\"instance\":\"decoy\",\"cold_start\":\"reap\",\"s\":\"a\\\"}\"},"
                + " \"instance\" : \"i-7\", \"mode\":\"faasnap\", \"cold_start\":\"faasnap\", \"timing_ms\":{\"total\":[1,2]}}";
        parse("HTTP/1.1 200 OK\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body, false);
        reply.scanBody();
        assertEquals("i-7", reply.instance());
        assertEquals(ColdStart.FAASNAP, reply.coldStart);
        assertNull(reply.errorCode());
    }

    @Test
    void nullOrUnknownColdStart() throws Exception {
        String body = "{\"result\":1,\"cold_start\":null}";
        parse("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, false);
        reply.scanBody();
        assertEquals(ColdStart.NONE, reply.coldStart);
        body = "{\"cold_start\":\"teleport\"}";
        parse("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, false);
        reply.scanBody();
        assertEquals(ColdStart.OTHER, reply.coldStart);
    }
}
