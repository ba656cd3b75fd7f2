package dev.thaw.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The userfaultfd(2) calls of a page server: read fault messages, resolve them with
 * {@code UFFDIO_COPY} or {@code UFFDIO_ZEROPAGE}, wake waiters with {@code UFFDIO_WAKE}; plus
 * the calls that make a userfaultfd in this process ({@link #create}, {@link #register}), which
 * only tests use (thaw's userfaultfds come from the VMM over the handshake), and
 * {@code pidfd_open}, so a page server can wait for its VMM's exit in the same poll.
 *
 * <p>Ioctl numbers and struct layouts are linux/userfaultfd.h's for x86-64. The resolving ioctls
 * report the two races a page server must accept as errno values rather than failures:
 * {@code EEXIST} (the page is already there: someone else installed it) and {@code EAGAIN}
 * (the mapping changed under the copy, retry); callers get them as {@link NativeException#errno()}.
 */
public final class Userfaultfd {
    public static final long UFFDIO_API = 0xc018aa3fL;
    public static final long UFFDIO_REGISTER = 0xc020aa00L;
    public static final long UFFDIO_UNREGISTER = 0x8010aa01L;
    public static final long UFFDIO_WAKE = 0x8010aa02L;
    public static final long UFFDIO_COPY = 0xc028aa03L;
    public static final long UFFDIO_ZEROPAGE = 0xc020aa04L;
    public static final long UFFD_API = 0xaa;
    public static final long UFFDIO_REGISTER_MODE_MISSING = 1;
    /** {@code uffd_msg.event} of a page fault. */
    public static final int EVENT_PAGEFAULT = 0x12;
    /** Size of {@code struct uffd_msg}. */
    public static final int MSG_SIZE = 32;
    /** {@code UFFDIO_COPY_MODE_DONTWAKE}: install without waking; a later {@link #wake} does. */
    public static final long COPY_MODE_DONTWAKE = 1;

    public static final int EEXIST = 17;
    /** The resolving ioctls' answer for a range no longer registered (e.g. after {@link #unregister}). */
    public static final int ENOENT = 2;
    public static final int EAGAIN = 11;

    private static final long SYS_USERFAULTFD = 323;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_NONBLOCK = 04000;

    private static final MethodHandle SYSCALL = Libc.withErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle IOCTL = Libc.withErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle READ = Libc.withErrno("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));

    private Userfaultfd() {}

    /** A new userfaultfd in this process (close-on-exec, non-blocking), handshaken with UFFDIO_API. */
    public static Native.Fd create() throws NativeException {
        int fd = (int) Libc.check("userfaultfd", null, (a, errno) ->
                (long) SYSCALL.invokeExact(errno, SYS_USERFAULTFD, (long) (O_CLOEXEC | O_NONBLOCK), 0L));
        Native.Fd uffd = new Native.Fd(fd, null);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment api = arena.allocate(24, 8);
            api.set(JAVA_LONG, 0, UFFD_API);
            ioctl(uffd, "UFFDIO_API", UFFDIO_API, api);
            return uffd;
        } catch (NativeException e) {
            uffd.close();
            throw e;
        }
    }

    /** Registers {@code region} (page aligned, in this process) for missing-page faults. */
    public static void register(Native.Fd uffd, MemorySegment region) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment reg = arena.allocate(32, 8); // {uffdio_range{start,len}; mode; ioctls}
            reg.set(JAVA_LONG, 0, region.address());
            reg.set(JAVA_LONG, 8, region.byteSize());
            reg.set(JAVA_LONG, 16, UFFDIO_REGISTER_MODE_MISSING);
            ioctl(uffd, "UFFDIO_REGISTER", UFFDIO_REGISTER, reg);
        }
    }

    /**
     * Reads one {@code uffd_msg} into {@code msg} (32 bytes). False when none is pending (the
     * descriptor is non-blocking).
     */
    public static boolean read(Native.Fd uffd, MemorySegment msg) throws NativeException {
        try {
            long n = Libc.check("read", "userfaultfd", (a, errno) -> (long) READ.invokeExact(errno, uffd.value(), msg, (long) MSG_SIZE));
            if (n != MSG_SIZE) throw new NativeException("read", "userfaultfd: short message of " + n + " bytes", 5 /* EIO */);
            return true;
        } catch (NativeException e) {
            if (e.errno() == EAGAIN) return false;
            throw e;
        }
    }

    /** The event type of a message read by {@link #read}. */
    public static int event(MemorySegment msg) {
        return Byte.toUnsignedInt(msg.get(JAVA_BYTE, 0));
    }

    /** Whether a page-fault message is for a write ({@code UFFD_PAGEFAULT_FLAG_WRITE} in {@code arg.pagefault.flags}). */
    public static boolean isWrite(MemorySegment msg) {
        return (msg.get(JAVA_LONG, 8) & 1) != 0;
    }

    /** The faulting address of a page-fault message ({@code arg.pagefault.address}). */
    public static long faultAddress(MemorySegment msg) {
        return msg.get(JAVA_LONG, 16);
    }

    /**
     * {@code UFFDIO_COPY} of {@code len} bytes from {@code src} (this process) to {@code dst} (the
     * registered range of the VMM). Uses {@code scratch} (40 bytes) for the argument.
     */
    public static void copy(Native.Fd uffd, MemorySegment scratch, long dst, MemorySegment src, long len, long mode)
            throws NativeException {
        scratch.set(JAVA_LONG, 0, dst);
        scratch.set(JAVA_LONG, 8, src.address());
        scratch.set(JAVA_LONG, 16, len);
        scratch.set(JAVA_LONG, 24, mode);
        scratch.set(JAVA_LONG, 32, 0);
        ioctl(uffd, "UFFDIO_COPY", UFFDIO_COPY, scratch);
    }

    /** {@code UFFDIO_ZEROPAGE} over [dst, dst+len): the shared zero page, no copy. */
    public static void zeroPage(Native.Fd uffd, MemorySegment scratch, long dst, long len) throws NativeException {
        scratch.set(JAVA_LONG, 0, dst);
        scratch.set(JAVA_LONG, 8, len);
        scratch.set(JAVA_LONG, 16, 0);
        scratch.set(JAVA_LONG, 24, 0);
        ioctl(uffd, "UFFDIO_ZEROPAGE", UFFDIO_ZEROPAGE, scratch);
    }

    /** {@code UFFDIO_WAKE} of the threads waiting on [start, start+len). */
    public static void wake(Native.Fd uffd, MemorySegment scratch, long start, long len) throws NativeException {
        scratch.set(JAVA_LONG, 0, start);
        scratch.set(JAVA_LONG, 8, len);
        ioctl(uffd, "UFFDIO_WAKE", UFFDIO_WAKE, scratch);
    }

    /**
     * {@code UFFDIO_UNREGISTER} of [start, start+len): from then on the kernel resolves faults
     * there itself, as plain anonymous memory (a zero-filled page on first touch); threads waiting
     * on a fault in the range are woken to retry it that way. Works from any process holding the
     * userfaultfd: the range is in the address space the descriptor was made for.
     */
    public static void unregister(Native.Fd uffd, MemorySegment scratch, long start, long len) throws NativeException {
        scratch.set(JAVA_LONG, 0, start);
        scratch.set(JAVA_LONG, 8, len);
        ioctl(uffd, "UFFDIO_UNREGISTER", UFFDIO_UNREGISTER, scratch);
    }

    /** A pidfd of process {@code pid}: readable (POLLIN) once the process has exited. */
    public static Native.Fd pidfd(long pid) throws NativeException {
        int fd = (int) Libc.check("pidfd_open", "pid " + pid, (a, errno) ->
                (long) SYSCALL.invokeExact(errno, SYS_PIDFD_OPEN, pid, 0L));
        return new Native.Fd(fd, null);
    }

    private static void ioctl(Native.Fd fd, String name, long request, MemorySegment arg) throws NativeException {
        Libc.check(name, "userfaultfd", (a, errno) -> (int) IOCTL.invokeExact(errno, fd.value(), request, arg));
    }
}
