package dev.thaw.memory;

import dev.thaw.sys.Native;
import dev.thaw.sys.UnixSocket;
import dev.thaw.sys.Userfaultfd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Firecracker's side of its UFFD handshake, in this JVM, for testing thaw's page server against
 * the contract rather than against thaw's own preload: what Firecracker's Uffd memory backend
 * does on {@code PUT /snapshot/load} (docs/snapshotting/handling-page-faults-on-snapshot-resume.md;
 * src/vmm/src/persist.rs). It maps guest memory anonymous, creates a userfaultfd, registers the
 * memory in MISSING mode, connects to the handler's socket and sends, in one sendmsg, the region
 * list as serde_json writes it (compact, fields in declaration order) with the userfaultfd as
 * SCM_RIGHTS; then closes its own copy of the descriptor, as Firecracker drops its socket.
 * Touching {@link #memory()} afterwards faults into the page server, like a guest would. The fake
 * launcher's guests use it as their VMM's memory when a restore serves it over userfaultfd.
 */
public final class FirecrackerStandIn implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final byte[] sent;

    public FirecrackerStandIn(Path socket, long bytes, long offset) throws IOException {
        memory = Native.mmapAnonymous(arena, bytes, Native.PROT_READ | Native.PROT_WRITE);
        try (Native.Fd uffd = Userfaultfd.create()) {
            Userfaultfd.register(uffd, memory);
            sent = json(memory.address(), bytes, offset, Native.PAGE_SIZE).getBytes(StandardCharsets.US_ASCII);
            try (Native.Fd conn = UnixSocket.connect(socket)) {
                long n = UnixSocket.sendWithFd(conn, sent, uffd);
                if (n != sent.length) throw new IOException("short send: " + n);
            }
        }
    }

    /** serde_json::to_string of Vec<GuestRegionUffdMapping> with one region: no spaces, declaration order. */
    static String json(long base, long size, long offset, long pageSize) {
        return "[{\"base_host_virt_addr\":" + base + ",\"size\":" + size + ",\"offset\":" + offset
                + ",\"page_size\":" + pageSize + "}]";
    }

    public MemorySegment memory() {
        return memory;
    }

    byte[] sent() {
        return sent;
    }

    @Override
    public void close() {
        arena.close();
    }
}
