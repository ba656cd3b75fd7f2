package dev.thaw.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Unix stream sockets that carry file descriptors (SCM_RIGHTS), which {@code java.nio} cannot
 * do: the receiving end of Firecracker's UFFD handshake (a JSON message plus the VMM's
 * userfaultfd) and, for tests, its sending end.
 *
 * <p>Every blocking step takes a timeout and is a {@code poll(2)} followed by a non-blocking
 * call, so a VMM that never connects or never sends cannot hold a thread forever. Received
 * descriptors are opened close-on-exec ({@code MSG_CMSG_CLOEXEC}) so they never leak into the
 * processes thaw spawns. Struct offsets are x86-64 glibc's.
 */
public final class UnixSocket {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 04000;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int SO_PEERCRED = 17;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int POLLIN = 1;
    private static final int POLLOUT = 4;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final long SOCKADDR_UN_SIZE = 110; // sa_family_t + char sun_path[108]

    private static final MethodHandle SOCKET = Libc.withErrno("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = Libc.withErrno("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = Libc.withErrno("listen",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = Libc.withErrno("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = Libc.withErrno("connect",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = Libc.withErrno("recvmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG = Libc.withErrno("sendmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = Libc.withErrno("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle POLL = Libc.withErrno("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private UnixSocket() {}

    /** What one {@code recvmsg} brought: the bytes and the descriptors passed with them (maybe none). */
    public record Received(byte[] data, java.util.List<Native.Fd> fds) {}

    /** A listening socket bound at {@code path} (non-blocking, close-on-exec; backlog 4). */
    public static Native.Fd listen(Path path) throws NativeException {
        Native.Fd fd = socket(path);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = address(arena, path);
            Libc.check("bind", path.toString(), (a, errno) -> (int) BIND.invokeExact(errno, fd.value(), addr, (int) SOCKADDR_UN_SIZE));
            Libc.check("listen", path.toString(), (a, errno) -> (int) LISTEN.invokeExact(errno, fd.value(), 4));
            return fd;
        } catch (NativeException e) {
            fd.close();
            throw e;
        }
    }

    /** Accepts one connection within {@code timeoutMs}; null if none came in time. */
    public static Native.Fd accept(Native.Fd listener, int timeoutMs) throws NativeException {
        if (!pollIn(listener, timeoutMs)) return null;
        int fd = (int) Libc.check("accept4", listener.target(), (a, errno) -> (int) ACCEPT4.invokeExact(
                errno, listener.value(), MemorySegment.NULL, MemorySegment.NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
        return new Native.Fd(fd, listener.path());
    }

    /** A blocking-free connection to the socket at {@code path} (for the sending side). */
    public static Native.Fd connect(Path path) throws NativeException {
        Native.Fd fd = socket(path);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = address(arena, path);
            Libc.check("connect", path.toString(), (a, errno) -> (int) CONNECT.invokeExact(errno, fd.value(), addr, (int) SOCKADDR_UN_SIZE));
            return fd;
        } catch (NativeException e) {
            fd.close();
            throw e;
        }
    }

    /**
     * One {@code recvmsg} of at most {@code maxBytes} within {@code timeoutMs}, with room for up
     * to four descriptors (more than the sender should send, so a surplus is seen and refused by
     * the caller instead of silently truncated). Returns null on timeout; empty data at end of
     * stream. A truncated control message is an error: its descriptors would be lost.
     */
    public static Received receive(Native.Fd conn, int maxBytes, int timeoutMs) throws NativeException {
        if (!pollIn(conn, timeoutMs)) return null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(maxBytes);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, maxBytes);
            long controlLen = 16 + 4 * 4; // CMSG_SPACE(4 ints)
            MemorySegment control = arena.allocate(controlLen, 8);
            MemorySegment msg = arena.allocate(56, 8); // struct msghdr
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, controlLen);
            long n = Libc.check("recvmsg", conn.target(), (a, errno) ->
                    (long) RECVMSG.invokeExact(errno, conn.value(), msg, MSG_CMSG_CLOEXEC));
            java.util.List<Native.Fd> fds = new java.util.ArrayList<>();
            long used = msg.get(JAVA_LONG, 40);
            for (long at = 0; at + 16 <= used; ) { // walk the cmsghdrs: {size_t len; int level; int type; data}
                long len = control.get(JAVA_LONG, at);
                if (len < 16 || at + len > used) break;
                int level = control.get(JAVA_INT, at + 8), type = control.get(JAVA_INT, at + 12);
                if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                    for (long d = 16; d + 4 <= len; d += 4) fds.add(new Native.Fd(control.get(JAVA_INT, at + d), null));
                }
                at += (len + 7) & ~7L;
            }
            if ((msg.get(JAVA_INT, 48) & MSG_CTRUNC) != 0) {
                for (Native.Fd fd : fds) fd.close();
                throw new NativeException("recvmsg", conn.target() + ": descriptors truncated", 90 /* EMSGSIZE */);
            }
            return new Received(buf.asSlice(0, n).toArray(JAVA_BYTE), fds);
        }
    }

    /** One {@code sendmsg} of {@code data} with {@code fd} as SCM_RIGHTS ancillary data (Firecracker's send_with_fd). */
    public static long sendWithFd(Native.Fd conn, byte[] data, Native.Fd fd) throws NativeException {
        return send(conn, data, fd);
    }

    /**
     * Sends all of {@code data} (the socket is non-blocking: waits up to 10 s for room), with
     * {@code fd} as SCM_RIGHTS ancillary data on the first {@code sendmsg} when it is not null.
     */
    public static long sendAll(Native.Fd conn, byte[] data, Native.Fd fd) throws NativeException {
        long sent = 0;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (sent < data.length) {
            try {
                sent += send(conn, java.util.Arrays.copyOfRange(data, (int) sent, data.length), sent == 0 ? fd : null);
            } catch (NativeException e) {
                if (e.errno() != EAGAIN || System.nanoTime() > deadline) throw e;
                pollOut(conn, 100);
            }
        }
        return sent;
    }

    private static long send(Native.Fd conn, byte[] data, Native.Fd fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(JAVA_BYTE, data);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, data.length);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            if (fd != null) {
                MemorySegment control = arena.allocate(24, 8); // CMSG_SPACE(sizeof(int))
                control.set(JAVA_LONG, 0, 20);                  // CMSG_LEN(sizeof(int))
                control.set(JAVA_INT, 8, SOL_SOCKET);
                control.set(JAVA_INT, 12, SCM_RIGHTS);
                control.set(JAVA_INT, 16, fd.value());
                msg.set(ADDRESS, 32, control);
                msg.set(JAVA_LONG, 40, 24);
            }
            return Libc.check("sendmsg", conn.target(), (a, errno) ->
                    (long) SENDMSG.invokeExact(errno, conn.value(), msg, MSG_NOSIGNAL));
        }
    }

    /** The pid of the process at the other end (SO_PEERCRED, as of its connect). */
    public static long peerPid(Native.Fd conn) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(12, 4); // struct ucred {pid_t pid; uid_t uid; gid_t gid;}
            MemorySegment len = arena.allocateFrom(JAVA_INT, 12);
            Libc.check("getsockopt", "SO_PEERCRED", (a, errno) ->
                    (int) GETSOCKOPT.invokeExact(errno, conn.value(), SOL_SOCKET, SO_PEERCRED, cred, len));
            return cred.get(JAVA_INT, 0);
        }
    }

    /**
     * poll(2) for readability on several descriptors; returns, per descriptor, its {@code revents}
     * (0 for all on timeout). EINTR counts as a timeout: callers loop anyway.
     */
    public static short[] poll(int[] fds, int timeoutMs) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfds = arena.allocate(8L * fds.length, 4); // struct pollfd {int fd; short events; short revents;}
            for (int i = 0; i < fds.length; i++) {
                pfds.set(JAVA_INT, 8L * i, fds[i]);
                pfds.set(JAVA_SHORT, 8L * i + 4, (short) POLLIN);
            }
            short[] revents = new short[fds.length];
            try {
                int n = (int) Libc.check("poll", null, (a, errno) -> (int) POLL.invokeExact(errno, pfds, (long) fds.length, timeoutMs));
                if (n > 0) for (int i = 0; i < fds.length; i++) revents[i] = pfds.get(JAVA_SHORT, 8L * i + 6);
            } catch (NativeException e) {
                if (e.errno() != EINTR) throw e;
            }
            return revents;
        }
    }

    private static boolean pollIn(Native.Fd fd, int timeoutMs) throws NativeException {
        return poll(new int[] {fd.value()}, timeoutMs)[0] != 0;
    }

    private static void pollOut(Native.Fd fd, int timeoutMs) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd.value());
            pfd.set(JAVA_SHORT, 4, (short) POLLOUT);
            try {
                Libc.check("poll", null, (a, errno) -> (int) POLL.invokeExact(errno, pfd, 1L, timeoutMs));
            } catch (NativeException e) {
                if (e.errno() != EINTR) throw e;
            }
        }
    }

    private static Native.Fd socket(Path path) throws NativeException {
        int fd = (int) Libc.check("socket", path.toString(), (a, errno) ->
                (int) SOCKET.invokeExact(errno, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        return new Native.Fd(fd, path);
    }

    private static MemorySegment address(Arena arena, Path path) {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SOCKADDR_UN_SIZE - 2) {
            throw new IllegalArgumentException("Unix socket path longer than 107 bytes: " + path);
        }
        MemorySegment addr = arena.allocate(SOCKADDR_UN_SIZE, 2);
        addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
        return addr;
    }
}
