package dev.thaw.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The system calls thaw makes: every file, page-cache, memory-mapping and process call the
 * memory engine and the VMM spawner need, bound once through the Foreign Function &amp; Memory
 * API. This package ({@code dev.thaw.sys}) is the only one that links native code; {@link Libc}
 * holds the linking and errno machinery.
 *
 * <p>Design: each function is a downcall handle created at class initialisation from
 * {@link Linker#defaultLookup()} (glibc). Calls that report failure through errno are linked with
 * {@code captureCallState("errno")}, so errno is read in the same downcall that failed (the JVM
 * may run other native code between two Java statements, which would clobber a later read).
 * Failures become a {@link NativeException} naming the call, its file and errno; results are never
 * sentinel values. Each call allocates its errno slot in a small confined arena; measured against
 * a raw downcall of the same lseek, the difference is lost in the noise of the system call itself
 * (about 2 µs on this VM). Linking every handle costs 0.2–0.5 s once per JVM, when the class is
 * first used, so a daemon should touch it at start-up rather than in its first restore.
 * Constants are the values for x86-64 Linux (the only platform thaw runs on); the page size is
 * checked against {@code sysconf(_SC_PAGESIZE)} when the class loads.
 */
public final class Native {
    /** The page size every page number in this package is counted in. */
    public static final int PAGE_SIZE = 4096;

    // open(2) flags (x86-64 values, asm-generic/fcntl.h).
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    /** Bypass the page cache; buffers, offsets and lengths must be block aligned (use 4096). */
    public static final int O_DIRECT = 040000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;

    // mmap(2) protection and flags.
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;

    // posix_fadvise(2) advice.
    public static final int POSIX_FADV_NORMAL = 0;
    public static final int POSIX_FADV_RANDOM = 1;
    public static final int POSIX_FADV_SEQUENTIAL = 2;
    public static final int POSIX_FADV_WILLNEED = 3;
    public static final int POSIX_FADV_DONTNEED = 4;

    // madvise(2) advice.
    public static final int MADV_NORMAL = 0;
    public static final int MADV_RANDOM = 1;
    public static final int MADV_SEQUENTIAL = 2;
    public static final int MADV_WILLNEED = 3;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;
    public static final int MADV_COLD = 20;
    public static final int MADV_PAGEOUT = 21;
    public static final int MADV_POPULATE_READ = 22;
    public static final int MADV_POPULATE_WRITE = 23;

    // fallocate(2) modes.
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;

    // lseek(2) whence.
    public static final int SEEK_SET = 0;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    // errno values the callers branch on.
    public static final int ENOENT = 2;
    public static final int EBADF = 9;
    public static final int EINVAL = 22;
    public static final int ENXIO = 6;
    public static final int EOPNOTSUPP = 95;

    private static final int SC_PAGESIZE = 30;

    // int open(const char *path, int flags, ... /* mode_t mode */)
    private static final MethodHandle OPEN = Libc.withErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = Libc.withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FSYNC = Libc.withErrno("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PREAD = Libc.withErrno("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = Libc.withErrno("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = Libc.withErrno("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FSTAT = Libc.withErrno("fstat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FALLOCATE = Libc.withErrno("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle READAHEAD = Libc.withErrno("readahead",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    // posix_fadvise returns the error number instead of setting errno.
    private static final MethodHandle FADVISE = Libc.plain("posix_fadvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MMAP = Libc.withErrno("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = Libc.withErrno("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MINCORE = Libc.withErrno("mincore",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle MADVISE = Libc.withErrno("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // int prctl(int option, ...): thaw passes four unsigned longs (pointers as addresses).
    private static final MethodHandle PRCTL = Libc.withErrno("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCONF = Libc.plain("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));

    // struct stat on x86-64: st_size at byte 48, st_blocks (512-byte units) at byte 64, 144 bytes.
    private static final long STAT_SIZE = 144;
    private static final long ST_SIZE = 48;
    private static final long ST_BLOCKS = 64;

    static {
        long pageSize = Libc.invoke(() -> (long) SYSCONF.invokeExact(SC_PAGESIZE));
        if (pageSize != PAGE_SIZE) {
            throw new ExceptionInInitializerError("thaw expects 4 KiB pages, this kernel uses " + pageSize);
        }
    }

    private Native() {}

    /** Links every libc function now (class initialisation), so the first real call pays nothing extra. */
    public static void ensureLinked() {
        // Calling any static method runs the static initialiser; there is nothing else to do.
    }

    /**
     * An open file descriptor and the path it was opened from (named in error messages). Close
     * it with try-with-resources; closing twice is harmless, and using it after close fails in
     * Java, so a descriptor number the kernel has since handed to another file is never touched.
     */
    public static final class Fd implements AutoCloseable {
        private final int value;
        private final Path path;
        private final AtomicBoolean closed = new AtomicBoolean();

        Fd(int value, Path path) {
            this.value = value;
            this.path = path;
        }

        /** The descriptor number. */
        public int value() {
            if (closed.get()) {
                throw new IllegalStateException("file descriptor " + value + " of " + path + " is closed");
            }
            return value;
        }

        /** The file it was opened from (null for a descriptor not opened by path). */
        public Path path() {
            return path;
        }

        @Override
        public void close() throws NativeException {
            if (closed.compareAndSet(false, true)) {
                Libc.check("close", target(), (arena, errno) -> (int) CLOSE.invokeExact(errno, value));
            }
        }

        String target() {
            return path == null ? "fd " + value : path.toString();
        }

        @Override
        public String toString() {
            return "fd " + value + " (" + path + ")";
        }
    }

    /** Size and allocated space of a file, from fstat(2). */
    public record FileStat(long size, long allocatedBytes) {}

    // ---- files ----------------------------------------------------------------------------

    /** open(2) without O_CREAT. */
    public static Fd open(Path path, int flags) throws NativeException {
        return open(path, flags, 0);
    }

    /** open(2); {@code mode} is used only with O_CREAT, e.g. {@code 0644}. */
    public static Fd open(Path path, int flags, int mode) throws NativeException {
        String name = path.toString();
        int fd = (int) Libc.check("open", name, (arena, errno) ->
                (int) OPEN.invokeExact(errno, arena.allocateFrom(name), flags, mode));
        return new Fd(fd, path);
    }

    /** fsync(2): data and metadata on stable storage, and no dirty pages left for DONTNEED to skip. */
    public static void fsync(Fd fd) throws NativeException {
        Libc.check("fsync", fd.target(), (arena, errno) -> (int) FSYNC.invokeExact(errno, fd.value()));
    }

    /**
     * pread(2) into {@code buffer}: reads up to {@code buffer.byteSize()} bytes at {@code offset},
     * returns the count (0 at end of file). With O_DIRECT the buffer address, offset and length
     * must be multiples of the device block size: allocate with {@code arena.allocate(n, 4096)}.
     */
    public static long pread(Fd fd, MemorySegment buffer, long offset) throws NativeException {
        return Libc.check("pread", fd.target(), (arena, errno) ->
                (long) PREAD.invokeExact(errno, fd.value(), buffer, buffer.byteSize(), offset));
    }

    /** Calls {@link #pread} until {@code buffer} is full or the file ends; returns bytes read. */
    public static long readFully(Fd fd, MemorySegment buffer, long offset) throws NativeException {
        long done = 0;
        while (done < buffer.byteSize()) {
            long n = pread(fd, buffer.asSlice(done), offset + done);
            if (n == 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    /** pwrite(2) of the whole buffer at {@code offset} (loops over short writes). */
    public static void pwrite(Fd fd, MemorySegment buffer, long offset) throws NativeException {
        long done = 0;
        while (done < buffer.byteSize()) {
            MemorySegment rest = buffer.asSlice(done);
            long at = offset + done;
            done += Libc.check("pwrite", fd.target(), (arena, errno) ->
                    (long) PWRITE.invokeExact(errno, fd.value(), rest, rest.byteSize(), at));
        }
    }

    /** fstat(2): the file's size and the bytes allocated to it on disk (st_blocks × 512). */
    public static FileStat fstat(Fd fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            Libc.check("fstat", fd.target(), (a, errno) -> (int) FSTAT.invokeExact(errno, fd.value(), stat));
            return new FileStat(stat.get(JAVA_LONG, ST_SIZE), stat.get(JAVA_LONG, ST_BLOCKS) * 512);
        }
    }

    /** lseek(2) with SEEK_DATA: the first data offset at or after {@code from}, or -1 if none. */
    public static long seekData(Fd fd, long from) throws NativeException {
        return seek(fd, from, SEEK_DATA);
    }

    /** lseek(2) with SEEK_HOLE: the first hole at or after {@code from} (end of file counts), or -1 past EOF. */
    public static long seekHole(Fd fd, long from) throws NativeException {
        return seek(fd, from, SEEK_HOLE);
    }

    private static long seek(Fd fd, long from, int whence) throws NativeException {
        try {
            return Libc.check("lseek", fd.target(), (arena, errno) ->
                    (long) LSEEK.invokeExact(errno, fd.value(), from, whence));
        } catch (NativeException e) {
            if (e.errno() == ENXIO) {
                return -1; // no data (or hole) at or after `from`: the normal end of a scan
            }
            throw e;
        }
    }

    /** fallocate(2), e.g. {@code FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE} to free a range. */
    public static void fallocate(Fd fd, int mode, long offset, long length) throws NativeException {
        Libc.check("fallocate", fd.target(), (arena, errno) ->
                (int) FALLOCATE.invokeExact(errno, fd.value(), mode, offset, length));
    }

    // ---- page cache -----------------------------------------------------------------------

    /** posix_fadvise(2) over [offset, offset+length); length 0 means "to the end of the file". */
    public static void fadvise(Fd fd, long offset, long length, int advice) throws NativeException {
        int error = (int) Libc.invoke(() -> (int) FADVISE.invokeExact(fd.value(), offset, length, advice));
        if (error != 0) {
            throw new NativeException("posix_fadvise", fd.target(), error);
        }
    }

    /**
     * readahead(2): queue reads of [offset, offset+count) into the page cache and return without
     * waiting for them. The kernel caps one call at the device's readahead window, so callers
     * that want a large range resident issue it in chunks (see {@link PageCache#prefetch}).
     */
    public static void readahead(Fd fd, long offset, long count) throws NativeException {
        Libc.check("readahead", fd.target(), (arena, errno) ->
                (long) READAHEAD.invokeExact(errno, fd.value(), offset, count));
    }

    // ---- processes ------------------------------------------------------------------------

    /**
     * prctl(2) on the calling thread. Attributes it sets that are per thread (no_new_privs, a
     * seccomp filter) are inherited by every process this thread starts, which is how thaw
     * shapes the VMM processes it spawns from one dedicated thread.
     */
    public static int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws NativeException {
        return (int) Libc.check("prctl", "option " + option, (arena, errno) ->
                (int) PRCTL.invokeExact(errno, option, arg2, arg3, arg4, arg5));
    }

    // ---- memory mappings ------------------------------------------------------------------

    /**
     * mmap(2) of {@code length} bytes of {@code fd} at {@code offset}. The returned segment has the
     * mapped size and lives as long as {@code arena}: closing the arena unmaps it (munmap), and
     * any later access fails in Java instead of crashing the JVM.
     */
    public static MemorySegment mmap(Arena arena, Fd fd, long offset, long length, int prot, int flags)
            throws NativeException {
        return map(arena, fd.target(), fd.value(), offset, length, prot, flags);
    }

    /** An anonymous private mapping of {@code length} bytes, zero-filled, unmapped when {@code arena} closes. */
    public static MemorySegment mmapAnonymous(Arena arena, long length, int prot) throws NativeException {
        return map(arena, "anonymous", -1, 0, length, prot, MAP_PRIVATE | MAP_ANONYMOUS);
    }

    private static MemorySegment map(Arena arena, String target, int fd, long offset, long length,
                                     int prot, int flags) throws NativeException {
        long address = Libc.check("mmap", target, (a, errno) -> ((MemorySegment) MMAP.invokeExact(
                errno, MemorySegment.NULL, length, prot, flags, fd, offset)).address());
        return MemorySegment.ofAddress(address).reinterpret(length, arena, unused -> munmap(address, length));
    }

    /** Runs from the arena's cleanup, where nothing can be thrown; munmap of our own mapping cannot fail. */
    private static void munmap(long address, long length) {
        try {
            Libc.check("munmap", null, (arena, errno) ->
                    (int) MUNMAP.invokeExact(errno, MemorySegment.ofAddress(address), length));
        } catch (NativeException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * mincore(2) over a page-aligned mapping: bit i is set when page i of {@code mapping} is
     * resident. For a file mapping that is the page cache's state, whether or not this process
     * touched the page.
     */
    public static BitSet mincore(MemorySegment mapping) throws NativeException {
        long pages = pages(mapping.byteSize());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vector = arena.allocate(pages);
            Libc.check("mincore", null, (a, errno) ->
                    (int) MINCORE.invokeExact(errno, mapping, mapping.byteSize(), vector));
            byte[] states = vector.toArray(JAVA_BYTE); // one bulk copy, then a plain array loop
            BitSet resident = new BitSet(states.length);
            for (int page = 0; page < states.length; page++) {
                if ((states[page] & 1) != 0) {
                    resident.set(page);
                }
            }
            return resident;
        }
    }

    /** madvise(2) over a page-aligned region, e.g. MADV_NOHUGEPAGE or MADV_WILLNEED. */
    public static void madvise(MemorySegment region, int advice) throws NativeException {
        Libc.check("madvise", null, (arena, errno) ->
                (int) MADVISE.invokeExact(errno, region, region.byteSize(), advice));
    }

    /** The symbolic name of an errno value, e.g. "ENOENT" (glibc's strerrorname_np). */
    public static String errnoName(int errno) {
        return Libc.errnoName(errno);
    }

    /** The C library's text for an errno value, e.g. "No such file or directory". */
    public static String strerror(int errno) {
        return Libc.strerror(errno);
    }

    /** The number of pages that hold {@code bytes} bytes (a partial last page counts). */
    public static long pages(long bytes) {
        return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    }

}
