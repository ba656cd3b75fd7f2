package dev.thaw.load;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of every request of a run, rendered without allocation.
 *
 * <p>A function with a fixed event gets its whole request built once; the send path then
 * writes that shared array as it is. The spin mapping's event differs per invocation, so the
 * header prefix up to {@code Content-Length: } is pre-built and the length digits and the
 * two numbers of the body are written into the caller's scratch buffer.
 */
final class RequestTemplates {
    private static final byte[] BODY_1 = "{\"duration_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BODY_2 = ",\"memory_mib\":".getBytes(StandardCharsets.US_ASCII);
    /** Enough for the spin body with two 10-digit numbers, the length digits and CRLFCRLF. */
    private static final int DYNAMIC_TAIL = 96;

    private final Schedule schedule;
    private final byte[][] whole;
    private final byte[][] prefix;
    private final int scratchSize;

    /** A request ready to write: {@code array[0, length)}. */
    static final class Buffer {
        final byte[] scratch;
        byte[] array;
        int length;

        Buffer(int size) {
            scratch = new byte[size];
        }
    }

    RequestTemplates(Schedule schedule, String hostHeader, String basePath, String mode) {
        this.schedule = schedule;
        int n = schedule.functions.size();
        whole = new byte[n][];
        prefix = new byte[n][];
        int max = 0;
        // A daemon that needs a token gets the one $THAW_AUTH_TOKEN_FILE names, as every thaw client does.
        String auth = dev.thaw.common.AuthToken.fromEnvironment().map(t -> "\r\nAuthorization: " + t.bearer()).orElse("");
        for (int f = 0; f < n; f++) {
            LoadFunction fn = schedule.functions.get(f);
            String path = basePath + "/functions/" + URLEncoder.encode(fn.target(), StandardCharsets.UTF_8).replace("+", "%20")
                    + "/invoke" + (mode == null ? "" : "?mode=" + URLEncoder.encode(mode, StandardCharsets.UTF_8));
            String head = "POST " + path + " HTTP/1.1\r\nHost: " + hostHeader + auth
                    + "\r\nContent-Type: application/json\r\nContent-Length: ";
            prefix[f] = head.getBytes(StandardCharsets.US_ASCII);
            if (fn.event() != null) {
                byte[] body = fn.event().getBytes(StandardCharsets.UTF_8);
                byte[] req = (head + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                byte[] all = new byte[req.length + body.length];
                System.arraycopy(req, 0, all, 0, req.length);
                System.arraycopy(body, 0, all, req.length, body.length);
                whole[f] = all;
            }
            max = Math.max(max, prefix[f].length + DYNAMIC_TAIL);
        }
        scratchSize = max;
    }

    Buffer newBuffer() {
        return new Buffer(scratchSize);
    }

    /** Points {@code buf} at the request of invocation {@code i}. */
    void render(int i, Buffer buf) {
        int f = schedule.function[i];
        if (whole[f] != null) {
            buf.array = whole[f];
            buf.length = whole[f].length;
            return;
        }
        int duration = schedule.durationMs[i];
        int memory = schedule.memoryMib[i];
        int bodyLength = BODY_1.length + digits(duration) + BODY_2.length + digits(memory) + 1;
        byte[] out = buf.scratch;
        byte[] p = prefix[f];
        System.arraycopy(p, 0, out, 0, p.length);
        int pos = writeInt(out, p.length, bodyLength);
        out[pos++] = '\r';
        out[pos++] = '\n';
        out[pos++] = '\r';
        out[pos++] = '\n';
        System.arraycopy(BODY_1, 0, out, pos, BODY_1.length);
        pos = writeInt(out, pos + BODY_1.length, duration);
        System.arraycopy(BODY_2, 0, out, pos, BODY_2.length);
        pos = writeInt(out, pos + BODY_2.length, memory);
        out[pos++] = '}';
        buf.array = out;
        buf.length = pos;
    }

    static int digits(int v) {
        if (v < 0) {
            throw new IllegalArgumentException("negative value in a request: " + v);
        }
        int d = 1;
        while (v >= 10) {
            v /= 10;
            d++;
        }
        return d;
    }

    private static int writeInt(byte[] out, int pos, int v) {
        int d = digits(v);
        for (int k = pos + d - 1; k >= pos; k--) {
            out[k] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return pos + d;
    }
}
