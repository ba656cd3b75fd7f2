package dev.thaw.load;

import java.io.EOFException;
import java.io.IOException;

/**
 * Parses one HTTP/1.1 response from the bytes received so far on a connection.
 *
 * <p>Resumable by re-parsing: a connection keeps appending what it reads and calls
 * {@link #parse} again until it reports a complete response. Responses here are small, so
 * re-scanning a few hundred bytes beats keeping parser state. Only the status line and four
 * headers matter (Content-Length, Transfer-Encoding: chunked, Connection, Retry-After); a
 * chunked body is decoded into the reply's own buffer once the last chunk is in. Nothing is
 * allocated unless a body outgrows its buffer.
 */
final class ResponseParser {
    static final int MAX_HEADER = 64 * 1024;
    static final int MAX_BODY = 64 * 1024 * 1024;

    private ResponseParser() {}

    /** The response was not valid HTTP/1.1. */
    static final class ProtocolException extends IOException {
        ProtocolException(String message) {
            super(message);
        }
    }

    /**
     * Parses the response in {@code buf[0, len)}.
     *
     * @param eof whether the peer has closed the stream after these bytes
     * @return the response's length in bytes if it is complete, or -1 if more bytes are needed
     * @throws EOFException if the stream ended before the response did
     * @throws ProtocolException if the bytes are not an HTTP/1.x response
     */
    static int parse(byte[] buf, int len, boolean eof, Reply reply) throws IOException {
        int from = 0;
        while (true) {
            int headerEnd = headerEnd(buf, from, len);
            if (headerEnd < 0) {
                if (len - from > MAX_HEADER) {
                    throw new ProtocolException("response headers exceed " + MAX_HEADER + " bytes");
                }
                if (eof) {
                    throw new EOFException(len == 0 ? "connection closed before any response byte"
                            : "connection closed in the middle of the response headers");
                }
                return -1;
            }
            parseHead(buf, from, headerEnd, reply);
            if (reply.status < 200) {
                from = headerEnd; // interim response (100 Continue): the real one follows
                continue;
            }
            if (reply.status == 204 || reply.status == 304) {
                reply.setBody(buf, headerEnd, headerEnd);
                return headerEnd;
            }
            if (reply.chunked) {
                return chunked(buf, headerEnd, len, eof, reply);
            }
            if (reply.contentLength >= 0) {
                if (reply.contentLength > MAX_BODY) {
                    throw new ProtocolException("response body of " + reply.contentLength + " bytes is too large");
                }
                int end = headerEnd + (int) reply.contentLength;
                if (len < end) {
                    if (eof) {
                        throw new EOFException("connection closed in the middle of the response body");
                    }
                    return -1;
                }
                reply.setBody(buf, headerEnd, end);
                return end;
            }
            // Neither length nor chunking: the body runs to the end of the stream.
            if (!eof) {
                return -1;
            }
            reply.close = true;
            reply.setBody(buf, headerEnd, len);
            return len;
        }
    }

    private static int headerEnd(byte[] buf, int from, int len) {
        for (int i = from; i + 3 < len; i++) {
            if (buf[i + 3] == '\n' && buf[i + 2] == '\r' && buf[i + 1] == '\n' && buf[i] == '\r') {
                return i + 4;
            }
        }
        return -1;
    }

    private static void parseHead(byte[] buf, int from, int headerEnd, Reply reply) throws ProtocolException {
        // Status line: HTTP/1.x SP 3DIGIT SP reason
        if (headerEnd - from < 12 || buf[from] != 'H' || buf[from + 1] != 'T' || buf[from + 2] != 'T'
                || buf[from + 3] != 'P' || buf[from + 4] != '/' || buf[from + 8] != ' ') {
            throw new ProtocolException("response does not start with an HTTP/1.x status line");
        }
        int status = digit(buf[from + 9]) * 100 + digit(buf[from + 10]) * 10 + digit(buf[from + 11]);
        if (status < 100 || status > 999) {
            throw new ProtocolException("malformed status code in the status line");
        }
        boolean http10 = buf[from + 7] == '0';
        reply.status = status;
        reply.close = http10;
        reply.contentLength = -1;
        reply.chunked = false;
        int line = indexOf(buf, '\n', from, headerEnd) + 1;
        while (line < headerEnd - 2) {
            int eol = indexOf(buf, '\n', line, headerEnd);
            int colon = indexOf(buf, ':', line, eol);
            if (colon > 0) {
                int v = colon + 1;
                int ve = eol;
                while (v < ve && (buf[v] == ' ' || buf[v] == '\t')) {
                    v++;
                }
                while (ve > v && (buf[ve - 1] == '\r' || buf[ve - 1] == ' ' || buf[ve - 1] == '\t')) {
                    ve--;
                }
                if (nameIs(buf, line, colon, "content-length")) {
                    reply.contentLength = number(buf, v, ve);
                } else if (nameIs(buf, line, colon, "transfer-encoding")) {
                    reply.chunked = contains(buf, v, ve, "chunked");
                } else if (nameIs(buf, line, colon, "connection")) {
                    if (contains(buf, v, ve, "close")) {
                        reply.close = true;
                    } else if (http10 && contains(buf, v, ve, "keep-alive")) {
                        reply.close = false;
                    }
                } else if (nameIs(buf, line, colon, "retry-after")) {
                    try {
                        reply.retryAfterSeconds = number(buf, v, ve);
                    } catch (ProtocolException dateForm) {
                        reply.retryAfterSeconds = -1; // an HTTP date: not worth parsing here
                    }
                }
            }
            line = eol + 1;
        }
    }

    /** Walks the chunks; once the last is in, copies their data contiguously into the reply. */
    private static int chunked(byte[] buf, int bodyStart, int len, boolean eof, Reply reply) throws IOException {
        int pos = bodyStart;
        long total = 0;
        while (true) {
            int eol = indexOf(buf, '\n', pos, len);
            if (eol < 0) {
                return incomplete(eof);
            }
            long size = 0;
            int digits = 0;
            for (int i = pos; i < eol && hex(buf[i]) >= 0; i++, digits++) {
                size = size * 16 + hex(buf[i]);
                if (size > MAX_BODY) {
                    throw new ProtocolException("chunk too large");
                }
            }
            if (digits == 0) {
                throw new ProtocolException("malformed chunk size");
            }
            pos = eol + 1;
            if (size == 0) {
                // Trailers, if any, end with an empty line.
                while (true) {
                    int te = indexOf(buf, '\n', pos, len);
                    if (te < 0) {
                        return incomplete(eof);
                    }
                    boolean empty = te == pos || (te == pos + 1 && buf[pos] == '\r');
                    pos = te + 1;
                    if (empty) {
                        break;
                    }
                }
                copyChunks(buf, bodyStart, (int) total, reply);
                return pos;
            }
            total += size;
            if (total > MAX_BODY) {
                throw new ProtocolException("chunked response body is too large");
            }
            pos += (int) size + 2;
            if (pos > len) {
                return incomplete(eof);
            }
        }
    }

    private static void copyChunks(byte[] buf, int pos, int total, Reply reply) {
        byte[] out = reply.decoded(total);
        int w = 0;
        while (true) {
            int eol = indexOf(buf, '\n', pos, buf.length);
            int size = 0;
            for (int i = pos; i < eol && hex(buf[i]) >= 0; i++) {
                size = size * 16 + hex(buf[i]);
            }
            if (size == 0) {
                break;
            }
            System.arraycopy(buf, eol + 1, out, w, size);
            w += size;
            pos = eol + 1 + size + 2;
        }
        reply.setBody(out, 0, w);
    }

    private static int incomplete(boolean eof) throws EOFException {
        if (eof) {
            throw new EOFException("connection closed in the middle of a chunked body");
        }
        return -1;
    }

    private static int indexOf(byte[] buf, char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static boolean nameIs(byte[] buf, int from, int to, String lowerName) {
        if (to - from != lowerName.length()) {
            return false;
        }
        for (int i = 0; i < lowerName.length(); i++) {
            if ((buf[from + i] | 0x20) != lowerName.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(byte[] buf, int from, int to, String lower) {
        outer:
        for (int i = from; i + lower.length() <= to; i++) {
            for (int j = 0; j < lower.length(); j++) {
                if ((buf[i + j] | 0x20) != lower.charAt(j)) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static long number(byte[] buf, int from, int to) throws ProtocolException {
        if (from == to) {
            throw new ProtocolException("empty numeric header value");
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = buf[i] - '0';
            if (d < 0 || d > 9 || v > (Long.MAX_VALUE - 9) / 10) {
                throw new ProtocolException("malformed numeric header value");
            }
            v = v * 10 + d;
        }
        return v;
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    private static int digit(byte b) {
        return b >= '0' && b <= '9' ? b - '0' : -1000;
    }
}
