package dev.thaw.load;

import java.nio.charset.StandardCharsets;

/**
 * One parsed response, reused by its connection for every exchange (so it is mutable).
 *
 * <p>The body is not parsed as a whole: {@link #scanBody()} walks only the top level of the
 * daemon's JSON reply and picks out {@code cold_start}, {@code instance} and
 * {@code error.code}, skipping every other value (the function's {@code result} included)
 * without building objects. That keeps the per-reply cost to one pass over the bytes.
 */
final class Reply {
    int status;
    long contentLength;
    boolean chunked;
    boolean close;
    long retryAfterSeconds;

    byte[] body;
    int bodyStart;
    int bodyEnd;

    ColdStart coldStart;
    int instanceStart;
    int instanceEnd;
    int errorCodeStart;
    int errorCodeEnd;

    Reply reset() {
        status = 0;
        contentLength = -1;
        chunked = false;
        close = false;
        retryAfterSeconds = -1;
        body = null;
        bodyStart = bodyEnd = 0;
        coldStart = ColdStart.NONE;
        instanceStart = instanceEnd = -1;
        errorCodeStart = errorCodeEnd = -1;
        return this;
    }

    private byte[] decoded = new byte[256];

    /** A buffer of at least {@code n} bytes for a decoded (de-chunked) body. */
    byte[] decoded(int n) {
        if (decoded.length < n) {
            decoded = new byte[Math.max(n, decoded.length * 2)];
        }
        return decoded;
    }

    void setBody(byte[] buf, int start, int end) {
        body = buf;
        bodyStart = start;
        bodyEnd = end;
    }

    /** The {@code instance} field, or null. Allocates, so callers ask only when they keep it. */
    String instance() {
        return instanceStart < 0 ? null : new String(body, instanceStart, instanceEnd - instanceStart, StandardCharsets.UTF_8);
    }

    /** The {@code error.code} field, or null. */
    String errorCode() {
        return errorCodeStart < 0 ? null : new String(body, errorCodeStart, errorCodeEnd - errorCodeStart, StandardCharsets.UTF_8);
    }

    /** Extracts the fields above from a JSON object body; a body that is not one yields nothing. */
    void scanBody() {
        if (body == null) {
            return;
        }
        int i = skipWs(bodyStart);
        if (i >= bodyEnd || body[i] != '{') {
            return;
        }
        i++;
        while (true) {
            i = skipWs(i);
            if (i >= bodyEnd || body[i] != '"') {
                return;
            }
            int keyStart = i + 1;
            int keyEnd = stringEnd(i);
            if (keyEnd < 0) {
                return;
            }
            i = skipWs(keyEnd + 1);
            if (i >= bodyEnd || body[i] != ':') {
                return;
            }
            i = skipWs(i + 1);
            if (i >= bodyEnd) {
                return;
            }
            if (keyIs(keyStart, keyEnd, "cold_start")) {
                if (body[i] == '"') {
                    int e = stringEnd(i);
                    if (e < 0) {
                        return;
                    }
                    coldStart = ColdStart.of(body, i + 1, e);
                }
            } else if (keyIs(keyStart, keyEnd, "instance")) {
                if (body[i] == '"') {
                    int e = stringEnd(i);
                    if (e < 0) {
                        return;
                    }
                    instanceStart = i + 1;
                    instanceEnd = e;
                }
            } else if (keyIs(keyStart, keyEnd, "error") && body[i] == '{') {
                scanError(i);
            }
            i = skipValue(i);
            if (i < 0) {
                return;
            }
            i = skipWs(i);
            if (i >= bodyEnd || body[i] != ',') {
                return;
            }
            i++;
        }
    }

    /** Finds {@code code} among the members of the error object starting at {@code i}. */
    private void scanError(int i) {
        i++;
        while (true) {
            i = skipWs(i);
            if (i >= bodyEnd || body[i] != '"') {
                return;
            }
            int keyStart = i + 1;
            int keyEnd = stringEnd(i);
            if (keyEnd < 0) {
                return;
            }
            i = skipWs(keyEnd + 1);
            if (i >= bodyEnd || body[i] != ':') {
                return;
            }
            i = skipWs(i + 1);
            if (i < bodyEnd && body[i] == '"' && keyIs(keyStart, keyEnd, "code")) {
                int e = stringEnd(i);
                if (e > 0) {
                    errorCodeStart = i + 1;
                    errorCodeEnd = e;
                }
                return;
            }
            i = skipValue(i);
            if (i < 0) {
                return;
            }
            i = skipWs(i);
            if (i >= bodyEnd || body[i] != ',') {
                return;
            }
            i++;
        }
    }

    private int skipWs(int i) {
        while (i < bodyEnd && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) {
            i++;
        }
        return i;
    }

    /** Index of the closing quote of the string whose opening quote is at {@code i}, or -1. */
    private int stringEnd(int i) {
        for (int j = i + 1; j < bodyEnd; j++) {
            if (body[j] == '\\') {
                j++;
            } else if (body[j] == '"') {
                return j;
            }
        }
        return -1;
    }

    /** Index just past the JSON value starting at {@code i}, or -1 if it is cut short. */
    private int skipValue(int i) {
        byte c = body[i];
        if (c == '"') {
            int e = stringEnd(i);
            return e < 0 ? -1 : e + 1;
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            for (int j = i; j < bodyEnd; j++) {
                byte b = body[j];
                if (b == '"') {
                    j = stringEnd(j);
                    if (j < 0) {
                        return -1;
                    }
                } else if (b == '{' || b == '[') {
                    depth++;
                } else if (b == '}' || b == ']') {
                    if (--depth == 0) {
                        return j + 1;
                    }
                }
            }
            return -1;
        }
        int j = i;
        while (j < bodyEnd && body[j] != ',' && body[j] != '}' && body[j] != ']') {
            j++;
        }
        return j;
    }

    private boolean keyIs(int start, int end, String key) {
        if (end - start != key.length()) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            if (body[start + i] != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
