package dev.thaw.platform;

import dev.thaw.memory.PageAvailability;
import dev.thaw.memory.PageServer;
import dev.thaw.memory.UffdPreload;
import dev.thaw.model.Mode;
import dev.thaw.vm.Guest;
import dev.thaw.vm.VmConfig;
import dev.thaw.vm.VmException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * {@code uffd}: guest memory served by thaw's {@link PageServer} over userfaultfd, every fault one
 * {@code pread} of the snapshot's memory file, nothing prefetched — the cost of the mechanism
 * itself (docs/design.md §2). The attempt starts the page server just before the VMM (its socket
 * must exist when QEMU maps guest RAM) and gives the VM the preload library's backend.
 *
 * <p>Fault injection for tests: the system property {@code thaw.uffd.die-after-faults=N} makes
 * every page server of this JVM fail as if it crashed after N faults.
 */
class UffdStrategy implements RestoreStrategy {
    static final String DIE_AFTER_PROPERTY = "thaw.uffd.die-after-faults";

    @Override
    public Mode mode() {
        return Mode.UFFD;
    }

    @Override
    public Attempt begin(Deployed d, Timing.Clock clock) {
        return new ServedAttempt(d);
    }

    /**
     * How a pre-started VMM hands over its memory ({@link VmmPool}): a page server that awaits its
     * handshake unbound, and a VM whose preload takes over the mapping of a sparse placeholder
     * file of the shape's size (matched by device and inode; never read: nothing is served from it).
     */
    static VmmPool.Handover handover(Host host) {
        return shape -> {
            Path placeholder = placeholder(host.runDir(), shape.memoryMib());
            Path socket = host.runDir().resolve("uffd").resolve("p-" + Ids.shortId() + ".sock");
            PageServer server = PageServer.awaitVmm(socket, (long) shape.memoryMib() << 20, options(), PageAvailability.COMPLETE);
            try {
                VmConfig vm = VmConfig.pooled(shape.image(), shape.memoryMib(), shape.vcpus(), shape.accel(), placeholder,
                        new VmConfig.Uffd(UffdPreload.get(host.cacheDir()), socket));
                return new VmmPool.Handover.Opened(vm, server);
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
        };
    }

    private static synchronized Path placeholder(Path runDir, int memoryMib) throws IOException {
        Path p = runDir.resolve("pool").resolve("memory-" + memoryMib + "M");
        if (java.nio.file.Files.isRegularFile(p)) return p;
        java.nio.file.Files.createDirectories(p.getParent());
        Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(tmp.toFile(), "rw")) {
            f.setLength((long) memoryMib << 20); // sparse: no block is ever written
        }
        java.nio.file.Files.move(tmp, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return p;
    }

    static PageServer.Options options() {
        long dieAfter = Long.getLong(DIE_AFTER_PROPERTY, -1L);
        return new PageServer.Options(PageServer.Options.DEFAULT.handshakeTimeoutMs(), dieAfter);
    }

    /** A restore whose guest RAM a page server serves; subclasses add what they install before resume. */
    static class ServedAttempt implements Attempt {
        final Deployed d;
        PageServer server;

        ServedAttempt(Deployed d) {
            this.d = d;
        }

        @Override
        public Path memoryFile() {
            return d.snapshot().memoryFile();
        }

        @Override
        public VmConfig configure(VmConfig vm, Host host) {
            Path socket = host.runDir().resolve("uffd").resolve("s-" + Ids.shortId() + ".sock");
            try {
                // A snapshot still arriving (pending) makes a fault on a page not yet here wait for it.
                server = PageServer.start(socket, vm.memoryFile(), options(), d.snapshot().availability());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the page server of " + d.name(), e);
            }
            return vm.withUffd(new VmConfig.Uffd(UffdPreload.get(host.cacheDir()), socket));
        }

        /** The state is loaded, so the VMM has handed over its memory long ago; a failed server fails the restore. */
        @Override
        public void beforeResume(Guest guest, Timing.Clock clock) {
            failIfDead();
        }

        void failIfDead() {
            if (server.done().isCompletedExceptionally()) {
                Throwable t = server.done().handle((r, e) -> e).join();
                throw new VmException.Died("the page server of " + d.name() + " failed: "
                        + (t.getCause() != null ? t.getCause().getMessage() : t.getMessage()));
            }
        }

        /** A pre-started VMM's memory, served from this snapshot from now on (a second bind of that server is refused). */
        @Override
        public void bind(PageServer pooled) {
            server = pooled;
            try {
                pooled.bind(memoryFile());
            } catch (IOException e) {
                throw new VmException.Died("binding a pre-started VMM to " + d.name() + "'s memory failed: " + e.getMessage());
            }
        }

        @Override
        public PageServer pageServer() {
            return server;
        }

        @Override
        public void abandon() {
            if (server != null) server.close();
        }

        @Override
        public CompletableFuture<?> background() {
            return CompletableFuture.completedFuture(null);
        }
    }
}
