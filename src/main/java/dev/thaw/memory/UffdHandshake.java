package dev.thaw.memory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;
import dev.thaw.sys.UnixSocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The receiving end of Firecracker's UFFD handshake: how a VMM hands its guest RAM to a page
 * server. Firecracker's Uffd memory backend (docs/snapshotting/handling-page-faults-on-snapshot-resume.md)
 * connects to the handler's Unix socket and sends, in one {@code sendmsg}, the compact JSON
 * array of its regions {@code [{"base_host_virt_addr":…,"size":…,"offset":…,"page_size":…}]}
 * with its userfaultfd as SCM_RIGHTS ancillary data; nothing else is ever said on the socket.
 * thaw's QEMU preload (src/main/c/thaw-uffd.c) sends the same bytes, so this receiver serves
 * either VMM.
 *
 * <p>The message comes from the VMM, which runs guest code: it is parsed strictly and bounded
 * (at most 64 KiB, at most 64 regions, exactly one descriptor, integers only, page-aligned and
 * non-overlapping regions that lie inside the memory file, 4 KiB pages). The one tolerated extra
 * field is {@code page_size_kib}, the deprecated duplicate that Firecracker 1.7–1.x also sends,
 * and it must equal {@code page_size}. Anything else fails the restore with a message naming what
 * was wrong. The peer's pid is taken from {@code SO_PEERCRED}, so the page server can kill the
 * VMM if it cannot serve it (Firecracker's doc asks handlers to do so).
 */
public final class UffdHandshake {
    /** The largest handshake accepted. */
    public static final int MAX_BYTES = 64 * 1024;
    /** The most regions accepted. */
    public static final int MAX_REGIONS = 64;
    private static final Set<String> FIELDS = Set.of("base_host_virt_addr", "size", "offset", "page_size");

    /** One guest memory region: {@code size} bytes at {@code base} in the VMM, backed by the file from {@code offset}. */
    public record Region(long base, long size, long offset, long pageSize) {
        public boolean contains(long address) {
            return address >= base && address - base < size;
        }
    }

    /** A received handshake: the regions, the VMM's userfaultfd, the VMM's pid and the message as sent. */
    public record Received(List<Region> regions, Native.Fd uffd, long peerPid, byte[] json) {}

    private UffdHandshake() {}

    /**
     * Reads the handshake of the VMM connected on {@code conn}, within {@code timeoutMs}.
     * {@code memoryBytes} is the size of the file the regions must lie in.
     */
    public static Received receive(Native.Fd conn, long memoryBytes, int timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        long pid = UnixSocket.peerPid(conn);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<Native.Fd> fds = new ArrayList<>();
        try {
            // Firecracker sends one message; a stream socket may still split it, so read until the
            // array is complete, the peer closes, the bound is hit or the time is up.
            while (true) {
                int left = (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
                UnixSocket.Received r = UnixSocket.receive(conn, MAX_BYTES + 1 - bytes.size(), left);
                if (r == null) throw new IOException("the VMM sent no complete handshake within " + timeoutMs + " ms");
                fds.addAll(r.fds());
                bytes.writeBytes(r.data());
                if (bytes.size() > MAX_BYTES) throw new IOException("handshake longer than " + MAX_BYTES + " bytes");
                if (r.data().length == 0 || complete(bytes.toByteArray())) break;
            }
            if (fds.size() != 1) {
                throw new IOException("handshake carried " + fds.size() + " file descriptors; expected exactly one (the userfaultfd)");
            }
            List<Region> regions = parse(bytes.toByteArray(), memoryBytes);
            return new Received(regions, fds.getFirst(), pid, bytes.toByteArray());
        } catch (IOException | RuntimeException e) {
            for (Native.Fd fd : fds) closeQuietly(fd);
            throw e;
        }
    }

    private static boolean complete(byte[] data) {
        try {
            Json.MAPPER.readTree(data);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Parses and validates the JSON of a handshake (see the class comment for the rules). */
    public static List<Region> parse(byte[] json, long memoryBytes) throws IOException {
        if (json.length > MAX_BYTES) throw new IOException("handshake longer than " + MAX_BYTES + " bytes");
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException("handshake is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isArray()) throw new IOException("handshake is not a JSON array of regions: " + excerpt(json));
        if (root.isEmpty() || root.size() > MAX_REGIONS) {
            throw new IOException("handshake has " + root.size() + " regions; expected 1 to " + MAX_REGIONS);
        }
        List<Region> regions = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode r = root.get(i);
            String where = "handshake region " + i;
            if (!r.isObject()) throw new IOException(where + " is not an object");
            for (Iterator<String> it = r.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!FIELDS.contains(f) && !f.equals("page_size_kib")) throw new IOException(where + " has an unknown field \"" + f + "\"");
            }
            long base = field(r, "base_host_virt_addr", where), size = field(r, "size", where);
            long offset = field(r, "offset", where), pageSize = field(r, "page_size", where);
            if (r.has("page_size_kib") && field(r, "page_size_kib", where) != pageSize) {
                throw new IOException(where + ": page_size_kib " + r.get("page_size_kib") + " differs from page_size " + pageSize);
            }
            if (pageSize != Native.PAGE_SIZE) throw new IOException(where + ": page_size " + pageSize + " is not supported (only 4096)");
            if (size == 0 || base % pageSize != 0 || size % pageSize != 0 || offset % pageSize != 0) {
                throw new IOException(where + ": base, size and offset must be non-zero multiples of the page size (" + r + ")");
            }
            if (offset > memoryBytes || size > memoryBytes - offset) {
                throw new IOException(where + ": [" + offset + ", +" + size + ") lies outside the " + memoryBytes + "-byte memory file");
            }
            if (base > Long.MAX_VALUE - size) throw new IOException(where + ": base + size overflows");
            for (Region o : regions) {
                if (base < o.base() + o.size() && o.base() < base + size) throw new IOException(where + " overlaps an earlier region");
            }
            regions.add(new Region(base, size, offset, pageSize));
        }
        return List.copyOf(regions);
    }

    private static long field(JsonNode r, String name, String where) throws IOException {
        JsonNode v = r.get(name);
        if (v == null) throw new IOException(where + " lacks \"" + name + "\"");
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new IOException(where + ": \"" + name + "\" must be a non-negative 64-bit integer, got " + v);
        }
        return v.asLong();
    }

    private static String excerpt(byte[] json) {
        String s = new String(json, 0, Math.min(json.length, 120), StandardCharsets.UTF_8);
        return json.length > 120 ? s + "…" : s;
    }

    static void closeQuietly(Native.Fd fd) {
        try {
            fd.close();
        } catch (NativeException ignored) {
            // a descriptor we were handed and refuse: nothing more to do with it
        }
    }
}
