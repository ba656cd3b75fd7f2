package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestTemplatesTest {

    static String text(RequestTemplates.Buffer b) {
        return new String(b.array, 0, b.length, StandardCharsets.UTF_8);
    }

    @Test
    void spinEventIsWrittenPerInvocation() {
        Schedule s = new Schedule(List.of(new LoadFunction("abc", "spin", null, 5)),
                new long[]{0, 1}, new int[]{0, 0}, new int[]{1234, 0}, new int[]{64, 1_000_000}, 1);
        RequestTemplates t = new RequestTemplates(s, "127.0.0.1:8080", "", "faasnap");
        RequestTemplates.Buffer b = t.newBuffer();
        t.render(0, b);
        String body = "{\"duration_ms\":1234,\"memory_mib\":64}";
        assertEquals("POST /functions/spin/invoke?mode=faasnap HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, text(b));
        t.render(1, b);
        assertEquals(true, text(b).endsWith("\r\n\r\n{\"duration_ms\":0,\"memory_mib\":1000000}"));
    }

    @Test
    void fixedEventIsPrebuiltAndNamesAreEncoded() {
        Schedule s = new Schedule(List.of(new LoadFunction("x", "my fn", "{\"n\":1}", 5)),
                new long[]{0}, new int[]{0}, new int[]{1}, new int[]{1}, 1);
        RequestTemplates t = new RequestTemplates(s, "h:1", "/api", null);
        RequestTemplates.Buffer b = t.newBuffer();
        t.render(0, b);
        assertEquals("POST /api/functions/my%20fn/invoke HTTP/1.1\r\nHost: h:1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"n\":1}", text(b));
    }
}
