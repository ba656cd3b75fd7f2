package dev.thaw.api;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTP byte range ({@code Range: bytes=A-B}, {@code bytes=A-}, {@code bytes=-N}; RFC 9110
 * §14.1.2) resolved against a file's size. Only a single range: a snapshot fetcher asks for one
 * piece at a time, and multipart answers would only add a format to parse. A malformed header is
 * a 400, a range that starts past the end a 416 with {@code Content-Range: bytes *}{@code /size}.
 */
final class ByteRange {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d{0,18})-(\\d{0,18})");

    private ByteRange() {}

    /** {start, end exclusive} of {@code header} within a file of {@code size} bytes. */
    static long[] parse(String header, long size) {
        Matcher m = RANGE.matcher(header.trim());
        if (!m.matches() || m.group(1).isEmpty() && m.group(2).isEmpty()) {
            throw dev.thaw.platform.ThawException.badRequest("Range must be one range, bytes=START-END, bytes=START- or bytes=-SUFFIX, got \""
                    + header + "\"");
        }
        long start, end;
        if (m.group(1).isEmpty()) { // the last N bytes
            long n = Long.parseLong(m.group(2));
            start = Math.max(0, size - n);
            end = size;
            if (n == 0) throw unsatisfiable(header, size);
        } else {
            start = Long.parseLong(m.group(1));
            end = m.group(2).isEmpty() ? size : Math.min(size, Long.parseLong(m.group(2)) + 1);
            if (!m.group(2).isEmpty() && Long.parseLong(m.group(2)) < start) {
                throw dev.thaw.platform.ThawException.badRequest("Range " + header + " ends before it starts");
            }
        }
        if (start >= size) throw unsatisfiable(header, size);
        return new long[]{start, end};
    }

    private static ApiError unsatisfiable(String header, long size) {
        return new ApiError(Status.REQUESTED_RANGE_NOT_SATISFIABLE_416, "range_not_satisfiable",
                "Range " + header + " is outside the file (" + size + " bytes)", Map.of(HeaderNames.CONTENT_RANGE, "bytes */" + size));
    }
}
