package dev.thaw.memory;

import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;
import dev.thaw.sys.UnixSocket;
import dev.thaw.sys.Userfaultfd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Serves one VMM's guest memory over userfaultfd: thaw's side of Firecracker's Uffd memory
 * backend (docs/design.md §2, "userfaultfd"). It listens on a Unix socket before the VMM
 * starts, takes the VMM's handshake ({@link UffdHandshake}: regions + userfaultfd), then
 * answers every missing-page fault with one {@code pread} of that page from the snapshot's
 * memory file and one {@code UFFDIO_COPY} — or {@code UFFDIO_ZEROPAGE} when the page is all
 * zeros, which maps the shared zero page instead of allocating one. Never through a file mapping:
 * the VMM's memory is anonymous and the server reads with plain file I/O.
 *
 * <p>Why a platform thread: the server blocks in {@code poll(2)} through FFM, which pins a
 * virtual thread's carrier, so each VM gets its own platform thread (2 cores, tens of VMs: the
 * threads sleep in the kernel). The same poll waits on a pidfd of the VMM, so the thread ends
 * when the VMM exits, whoever killed it.
 *
 * <p>Races: a fault can arrive for a page another thread (a prefetch) is installing; the copy
 * then fails with {@code EEXIST}, which is success plus a {@code UFFDIO_WAKE} of the waiter.
 * {@code EAGAIN} (the mapping changed during the copy) is retried. {@code ENOENT} for a page
 * {@link #makeAnonymous} handed to the kernel is a fault queued just before that: the unregister
 * woke the guest to take it as an anonymous fault, so the message is dropped. Any other failure is fatal for
 * the VM: the server kills the VMM (its pid from {@code SO_PEERCRED}) before closing the
 * userfaultfd, because once the last descriptor closes the kernel drops the registration and the
 * guest would read zeros where its memory was (Firecracker's doc gives handlers the same duty).
 *
 * <p>Binding (issue 11's pre-started VMMs): a server may take a VMM's handshake before it knows
 * which snapshot it will serve ({@link #awaitVmm}); a pooled QEMU waits with its RAM behind the
 * userfaultfd and nothing served. {@link #bind} names the memory file once — a VMM's memory is
 * one snapshot's, ever, and a second bind is refused — and serving starts at once; a fault the
 * VMM took before (none are expected while it waits) is answered then. Until the bind the thread
 * only watches the VMM's pidfd, so a pooled VMM that dies is seen ({@link #done} completes).
 * {@link #start} is the two steps together.
 *
 * <p>Counters: every fault's page and first-touch time (the exact working set, in order, which
 * {@link FaultLog} turns into a record) and its service time, from reading the message to the
 * resolving ioctl's return.
 */
public final class PageServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PageServer.class.getName());
    private static final int PAGE = Native.PAGE_SIZE;
    private static final int ESRCH = 3;

    /**
     * @param handshakeTimeoutMs how long the VMM has to connect and send its handshake
     * @param dieAfterFaults fault injection for tests: fail as if crashed after this many faults (-1: never; 0: as
     *                       soon as serving begins, which for a pre-started VMM is its bind)
     */
    public record Options(int handshakeTimeoutMs, long dieAfterFaults) {
        public static final Options DEFAULT = new Options(30_000, -1);
    }

    private final Path socket;
    private final long memoryBytes;
    private final Options options;
    private final PageAvailability availability;
    private final Native.Fd listener;
    private final CompletableFuture<Native.Fd> bound = new CompletableFuture<>();
    private final java.util.concurrent.atomic.AtomicBoolean bindTaken = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Path memoryFile;
    private volatile Native.Fd file;
    private final FaultLog log = new FaultLog();
    private final java.util.concurrent.atomic.AtomicLong installed = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.BitSet anonymousSet = new java.util.BitSet(); // file pages made anonymous; guarded by this
    private final CompletableFuture<Long> connected = new CompletableFuture<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile long startNanos = System.nanoTime();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Native.Fd uffd;
    private volatile List<UffdHandshake.Region> regions;
    private volatile long peerPid = -1;
    private volatile byte[] handshake;

    private PageServer(Path socket, long memoryBytes, Options options, PageAvailability availability) throws IOException {
        this.socket = socket;
        this.memoryBytes = memoryBytes;
        this.options = options;
        this.availability = availability;
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        this.listener = UnixSocket.listen(socket);
        this.thread = new Thread(this::run, "thaw-pages-" + socket.getFileName());
        thread.setDaemon(true);
    }

    /** Listens on {@code socket} and serves, from {@code memoryFile}, the VMM that connects there. */
    public static PageServer start(Path socket, Path memoryFile, Options options) throws IOException {
        return start(socket, memoryFile, options, PageAvailability.COMPLETE);
    }

    /**
     * As {@link #start(Path, Path, Options)}, for a memory file that may still be arriving: a fault
     * first waits until {@code availability} has its page (docs/cluster.md, early restore).
     */
    public static PageServer start(Path socket, Path memoryFile, Options options, PageAvailability availability) throws IOException {
        PageServer s = awaitVmm(socket, Files.size(memoryFile), options, availability);
        try {
            s.bind(memoryFile);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /**
     * Listens on {@code socket} for a VMM whose guest memory is {@code memoryBytes} long (its
     * regions must lie inside that), takes its handshake, and serves nothing until {@link #bind};
     * {@code availability} is {@link PageAvailability#COMPLETE} unless the file is still arriving.
     */
    public static PageServer awaitVmm(Path socket, long memoryBytes, Options options, PageAvailability availability) throws IOException {
        PageServer s = new PageServer(socket, memoryBytes, options, availability);
        s.thread.start();
        return s;
    }

    /**
     * Serves the VMM's memory from {@code memoryFile} (a snapshot's, as long as the VMM's memory),
     * from now on. Once per server: a second bind is an {@link IllegalStateException}, whatever
     * the first one's outcome. Fails if the server has ended (the VMM died, the handshake failed).
     */
    public void bind(Path memoryFile) throws IOException {
        if (!bindTaken.compareAndSet(false, true)) {
            throw new IllegalStateException("the VMM of " + socket + " is bound to " + this.memoryFile + " already; a VMM serves one snapshot, ever");
        }
        if (done.isDone()) throw new IOException("the page server of " + socket + " has ended: its VMM is gone");
        Native.Fd f = Native.open(memoryFile, Native.O_RDONLY | Native.O_CLOEXEC);
        try {
            long size = Native.fstat(f).size();
            if (size < memoryBytes) {
                throw new IOException(memoryFile + " is " + size + " bytes, shorter than the VMM's " + memoryBytes + "-byte memory");
            }
        } catch (IOException e) {
            UffdHandshake.closeQuietly(f);
            throw e;
        }
        this.memoryFile = memoryFile;
        this.startNanos = System.nanoTime();
        if (!bound.complete(f)) UffdHandshake.closeQuietly(f);
    }

    /** Whether {@link #bind} was called (a pooled VMM that was taken, whatever came of it). */
    public boolean isBound() { return bindTaken.get(); }

    public Path socket() { return socket; }

    /** Completes with the VMM's pid once its handshake is in; fails if it never comes or is refused. */
    public CompletableFuture<Long> connected() { return connected; }

    /** Completes when serving ended: normally when the VMM exited, exceptionally when the server failed. */
    public CompletableFuture<Void> done() { return done; }

    /** The handshake's bytes exactly as the VMM sent them (null before it arrived). */
    public byte[] handshake() {
        return handshake;
    }

    /** Pages installed ahead of their faults (a strategy's prefetch; 0 for plain uffd). */
    public long installedPages() { return installed.get(); }

    /** The faults served so far, in first-touch order. */
    public FaultLog log() { return log; }

    private void run() {
        Throwable failure = null;
        try {
            UffdHandshake.Received h;
            try (Native.Fd conn = acceptVmm()) {
                h = UffdHandshake.receive(conn, memoryBytes, options.handshakeTimeoutMs());
            }
            uffd = h.uffd();
            regions = h.regions();
            peerPid = h.peerPid();
            handshake = h.json();
            closeListener();
            connected.complete(h.peerPid());
            try (Native.Fd pidfd = Userfaultfd.pidfd(h.peerPid())) {
                file = awaitBind(pidfd);
                if (file != null) serve(h.uffd(), pidfd);
            }
        } catch (Throwable t) {
            failure = t;
            connected.completeExceptionally(t);
            // ESRCH: the VMM exited while a fault was in flight (its instance was stopped): nothing went wrong here.
            boolean vmmGone = t instanceof NativeException ne && ne.errno() == ESRCH;
            if (!stopping) LOG.log(vmmGone ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "page server for " + (memoryFile != null ? memoryFile : socket) + " failed: " + t.getMessage());
            killPeer();
        } finally {
            closeListener();
            Native.Fd u = uffd;
            if (u != null) UffdHandshake.closeQuietly(u); // only after the VMM is dead or gone
            bound.cancel(false);
            if (bound.isDone() && !bound.isCancelled()) UffdHandshake.closeQuietly(bound.join());
            if (failure == null) done.complete(null);
            else done.completeExceptionally(failure);
        }
    }

    /**
     * Waits for {@link #bind} while the VMM lives: the memory file's descriptor, or null when the
     * VMM exited or the server was closed first. Wakes at once on a bind; the pidfd is checked
     * between waits of at most 200 ms.
     */
    private Native.Fd awaitBind(Native.Fd pidfd) throws IOException {
        while (!stopping) {
            try {
                return bound.get(200, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (UnixSocket.poll(new int[] {pidfd.value()}, 0)[0] != 0) return null; // the VMM exited unbound
            } catch (Exception e) { // cancelled (the server closed) or interrupted: no bind will come
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Waits for the VMM's connection in short slices, so {@link #close()} can stop the wait. */
    private Native.Fd acceptVmm() throws IOException {
        long deadline = System.nanoTime() + options.handshakeTimeoutMs() * 1_000_000L;
        while (!stopping && System.nanoTime() < deadline) {
            Native.Fd conn = UnixSocket.accept(listener, 100);
            if (conn != null) return conn;
        }
        throw new IOException(stopping ? "page server closed before the VMM connected"
                : "no VMM connected to " + socket + " within " + options.handshakeTimeoutMs() + " ms");
    }

    private void serve(Native.Fd uffd, Native.Fd pidfd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocate(Userfaultfd.MSG_SIZE, 8);
            MemorySegment page = arena.allocate(PAGE, PAGE);
            MemorySegment scratch = arena.allocate(64, 8);
            int[] fds = {uffd.value(), pidfd.value()};
            if (options.dieAfterFaults() == 0) throw new IOException("fault injection: page server stopped as it began serving");
            while (!stopping) {
                short[] ready = UnixSocket.poll(fds, 200);
                if (ready[1] != 0) return; // the VMM exited
                if (ready[0] == 0) continue;
                while (Userfaultfd.read(uffd, msg)) {
                    if (Userfaultfd.event(msg) != Userfaultfd.EVENT_PAGEFAULT) {
                        throw new IOException("unexpected userfaultfd event 0x" + Integer.toHexString(Userfaultfd.event(msg))
                                + " (only page faults were registered)");
                    }
                    long t0 = System.nanoTime();
                    long address = Userfaultfd.faultAddress(msg) & -PAGE;
                    long fileOffset = fileOffset(address);
                    resolve(uffd, scratch, page, address, fileOffset, Userfaultfd.isWrite(msg), t0);
                    if (options.dieAfterFaults() >= 0 && log.size() >= options.dieAfterFaults()) {
                        throw new IOException("fault injection: page server stopped after " + log.size() + " faults");
                    }
                }
            }
        }
    }

    /**
     * Installs one faulted page: read, then the zero page or a copy. The fault is logged before the
     * ioctl wakes the guest (so whoever sees the page resident sees it logged), its service time after.
     *
     * <p>A zero page the guest faulted on by writing is copied (a page of zeros), not mapped as the
     * shared zero page: the write would fault again at once, in the kernel this time, to replace
     * it; under TCG that is a fault of QEMU's vCPU thread, which costs ~13 µs on this machine.
     * The mmap function's misses are such writes, thousands of them.
     */
    private void resolve(Native.Fd uffd, MemorySegment scratch, MemorySegment page, long address, long fileOffset,
                         boolean write, long t0) throws IOException {
        availability.await(fileOffset, PAGE); // a no-op unless the file is still being fetched
        long n = Native.readFully(file, page, fileOffset); // file: set by the bind, before serving began
        if (n != PAGE) throw new IOException("short read of " + memoryFile + " at " + fileOffset + ": " + n + " bytes");
        boolean zero = UffdCopy.isZero(page);
        int entry = log.add(fileOffset / PAGE, t0 - startNanos, zero);
        for (int attempt = 0; ; attempt++) {
            try {
                if (zero && !write) Userfaultfd.zeroPage(uffd, scratch, address, PAGE);
                else Userfaultfd.copy(uffd, scratch, address, page, PAGE, 0);
                break;
            } catch (NativeException e) {
                if (e.errno() == Userfaultfd.EEXIST) { // installed meanwhile (a prefetch): wake whoever waits
                    Userfaultfd.wake(uffd, scratch, address, PAGE);
                    break;
                }
                // A fault queued just before its page was handed to the kernel (makeAnonymous): the
                // unregister woke the guest to retry it as an anonymous fault; the message is stale.
                if (e.errno() == Userfaultfd.ENOENT && isAnonymous(fileOffset / PAGE)) break;
                if (e.errno() != Userfaultfd.EAGAIN || attempt >= 100) throw e;
            }
        }
        log.served(entry, System.nanoTime() - t0);
    }

    /** The file offset backing VMM address {@code address}; a fault outside every region is fatal. */
    long fileOffset(long address) throws IOException {
        for (UffdHandshake.Region r : regions) {
            if (r.contains(address)) return r.offset() + (address - r.base());
        }
        throw new IOException("fault at 0x" + Long.toHexString(address) + " outside every registered region");
    }

    /**
     * REAP's prefetch: installs the pages of {@code runs} (file pages, ascending) from
     * {@code contents} (those pages back to back) with {@code UFFDIO_COPY} without waking anyone,
     * then wakes the whole guest memory once — from the caller's thread, while this server keeps
     * serving faults. A page the guest faulted in meanwhile is skipped ({@code EEXIST}). Returns
     * the pages installed.
     */
    public long install(MemorySegment contents, List<PageRun> runs) throws IOException {
        Native.Fd u = uffd;
        if (u == null) throw new IOException("the VMM has not handed over its memory");
        long installedNow = 0, at = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(64, 8);
            for (PageRun run : runs) {
                long fileOffset = run.offset(), len = run.length();
                while (len > 0) {
                    UffdHandshake.Region r = regionOfFile(fileOffset);
                    long n = Math.min(len, r.offset() + r.size() - fileOffset); // a run may not cross regions
                    installedNow += UffdCopy.copyRun(u, scratch, r.base() + (fileOffset - r.offset()), contents.asSlice(at, n), n,
                            Userfaultfd.COPY_MODE_DONTWAKE);
                    fileOffset += n;
                    at += n;
                    len -= n;
                }
            }
            for (UffdHandshake.Region r : regions) Userfaultfd.wake(u, scratch, r.base(), r.size());
        }
        installed.addAndGet(installedNow);
        return installedNow;
    }

    /**
     * Hands {@code zeroRuns} (file pages that hold only zeros) to the kernel as anonymous memory:
     * unregisters them from the userfaultfd, so the guest's first touch of such a page is an
     * ordinary anonymous fault in the VMM (a zero-filled page, or the zero page for a read) that
     * never comes here. FaaSnap's per-region mapping on the userfaultfd path: zero regions never
     * cost a round trip to the page server, let alone a read. Each run splits the VMM's mapping,
     * so callers pass {@link RegionList#regions}, not every zero page. Returns the pages handed over.
     */
    public long makeAnonymous(List<PageRun> zeroRuns) throws IOException {
        Native.Fd u = uffd;
        if (u == null) throw new IOException("the VMM has not handed over its memory");
        long pages = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(64, 8);
            for (PageRun run : zeroRuns) {
                markAnonymous(run); // before the unregister, so a stale fault in it is known as such
                long fileOffset = run.offset(), len = run.length();
                while (len > 0) {
                    UffdHandshake.Region r = regionOfFile(fileOffset);
                    long n = Math.min(len, r.offset() + r.size() - fileOffset);
                    Userfaultfd.unregister(u, scratch, r.base() + (fileOffset - r.offset()), n);
                    pages += n / PAGE;
                    fileOffset += n;
                    len -= n;
                }
            }
        }
        return pages;
    }

    /** Pages handed to the kernel as anonymous memory by {@link #makeAnonymous}. */
    public synchronized long anonymousPages() { return anonymousSet.cardinality(); }

    private synchronized void markAnonymous(PageRun run) {
        anonymousSet.set(Math.toIntExact(run.start()), Math.toIntExact(run.end()));
    }

    private synchronized boolean isAnonymous(long page) {
        return page <= Integer.MAX_VALUE && anonymousSet.get((int) page);
    }

    /** The VMM address of file offset {@code fileOffset} (which must lie in a region). */
    long address(long fileOffset) throws IOException {
        UffdHandshake.Region r = regionOfFile(fileOffset);
        return r.base() + (fileOffset - r.offset());
    }

    /** UFFDIO_COPY (waking) of {@code src} to the VMM address of {@code fileOffset}, stepping over present pages. */
    long copyInto(Native.Fd u, MemorySegment scratch, long fileOffset, MemorySegment src) throws IOException {
        UffdHandshake.Region r = regionOfFile(fileOffset);
        long n = Math.min(src.byteSize(), r.offset() + r.size() - fileOffset);
        return UffdCopy.copyRun(u, scratch, r.base() + (fileOffset - r.offset()), src, n, 0);
    }

    void countInstalled(long pages) {
        installed.addAndGet(pages);
    }

    private UffdHandshake.Region regionOfFile(long fileOffset) throws IOException {
        for (UffdHandshake.Region r : regions) {
            if (fileOffset >= r.offset() && fileOffset - r.offset() < r.size()) return r;
        }
        throw new IOException("file offset " + fileOffset + " lies in no region of the VMM's memory");
    }

    /** The VMM's userfaultfd while serving (for installing pages from another thread), else null. */
    Native.Fd uffd() {
        return uffd;
    }

    List<UffdHandshake.Region> regions() {
        return regions;
    }

    private void killPeer() {
        long pid = peerPid;
        // Never this JVM: a VMM stand-in in a test shares its pid.
        if (pid > 0 && pid != ProcessHandle.current().pid()) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    private void closeListener() {
        UffdHandshake.closeQuietly(listener);
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove " + socket + ": " + e);
        }
    }

    /**
     * Stops serving. A VMM still running on this server's memory is killed first (it could not
     * go on without its pages). Waits up to a second for the thread.
     */
    @Override
    public void close() {
        stopping = true;
        if (!done.isDone()) killPeer();
        try {
            done.handle((r, e) -> null).get(1, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "page server thread did not stop within 1 s: " + e);
        }
    }
}
