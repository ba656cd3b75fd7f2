package dev.thaw.platform;

import dev.thaw.common.Json;
import dev.thaw.memory.FetchProgress;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.Checksums;
import dev.thaw.snapshot.Manifest;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.vm.FakeLauncher;
import dev.thaw.vm.VmException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A deployment installed before its memory has arrived (a cluster node's early restore), on fake
 * guests: restores of it are served by a page server over the arriving {@code memory.sparse}
 * whatever mode was asked, it completes into a normal deployment, and a fetch that fails for good
 * fails its VMs' calls naming the fetch and leaves nothing behind. (The page server's wait for a
 * page still arriving is {@code PageServerTest}'s; the fetch's chunk checks {@code SnapshotFetcherTest}'s.)
 */
class PendingInstallTest {
    /**
     * What a fetching node has when it installs early, built from a deploy on {@code origin}: a
     * staging directory with the code and every snapshot file but the memory files, a sized,
     * still empty {@code memory.sparse}, and the manifest (memory.sparse with chunk checksums).
     */
    record Fetch(Path staging, Manifest manifest, Path peerSnapshot) {}

    static Fetch stage(FakePlatform origin, FakePlatform node, String name) throws IOException {
        Path peer = origin.platform.snapshotDir(name);
        Path sparse = peer.resolve(Snapshot.SPARSE_MEMORY);
        if (!Files.exists(sparse)) Files.copy(peer.resolve(Snapshot.MEMORY), sparse);
        Manifest m = Snapshot.open(peer).manifest();
        List<Manifest.FileEntry> files = new ArrayList<>();
        for (Manifest.FileEntry f : m.files()) if (!f.name().equals(Snapshot.SPARSE_MEMORY)) files.add(f);
        Checksums.Sums sums = Checksums.of(sparse, 4096);
        files.add(new Manifest.FileEntry(Snapshot.SPARSE_MEMORY, Files.size(sparse), sums.whole(), sums.chunks()));
        Manifest manifest = new Manifest(m.version(), m.function(), m.snapshotId(), m.createdAt(), m.imageKey(), m.kernelRelease(),
                m.machine(), files);
        Path staging = node.platform.newStaging(name);
        copyTree(peer.resolveSibling("code"), staging.resolve("code"));
        Files.createDirectories(staging.resolve("snapshot"));
        for (Manifest.FileEntry f : files) {
            if (!f.name().startsWith("memory")) Files.copy(peer.resolve(f.name()), staging.resolve("snapshot").resolve(f.name()));
        }
        try (var ch = java.nio.channels.FileChannel.open(staging.resolve("snapshot/memory.sparse"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), Files.size(sparse) - 1);
        }
        return new Fetch(staging, manifest, peer);
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t); else Files.copy(p, t);
            }
        }
    }

    /** The rest of the fetch: the memory files and the manifest, written into the installed directory. */
    static void arrive(Fetch f, Path dir, FetchProgress progress) throws IOException {
        Files.copy(f.peerSnapshot().resolve(Snapshot.SPARSE_MEMORY), dir.resolve(Snapshot.SPARSE_MEMORY),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        progress.markPresent(0, Files.size(dir.resolve(Snapshot.SPARSE_MEMORY)));
        Files.copy(f.peerSnapshot().resolve(Snapshot.MEMORY), dir.resolve(Snapshot.MEMORY));
        Files.write(dir.resolve(Snapshot.MANIFEST), Json.MAPPER.writeValueAsBytes(f.manifest()));
    }

    @Test
    void aPendingFunctionRestoresOverUffdFromTheArrivingFileThenCompletes() throws IOException {
        try (FakePlatform origin = new FakePlatform(); FakePlatform node = new FakePlatform()) {
            origin.deploy("hello");
            Fetch f = stage(origin, node, "hello");
            FetchProgress progress = new FetchProgress(f.manifest().file(Snapshot.SPARSE_MEMORY).size(), Duration.ofSeconds(30));
            PendingInstall pending = node.platform.installPending("hello", f.staging(), f.manifest(), progress);
            Path dir = pending.snapshotDir();
            assertFalse(Files.exists(dir.resolve(Snapshot.MEMORY)), "the memory file has not arrived");
            assertEquals(f.manifest().snapshotId(), node.platform.function("hello").snapshot().snapshotId());
            ThawException refused = assertThrows(ThawException.class, () -> node.platform.snapshotFile("hello", Snapshot.SPARSE_MEMORY));
            assertEquals("snapshot_pending", refused.code(), "a peer is never sent a half-arrived file");

            InvocationResult r = node.platform.invoke("hello", Json.object(), Mode.VANILLA);
            assertEquals("hello", r.result().path("function").asText());
            // vanilla maps the file, which cannot wait for a page: served by the page server instead
            // (uffd: this deploy recorded no working set, so there is no ws.pages for thaw's install)
            assertEquals("uffd", r.coldStart());
            assertTrue(r.warnings().getFirst().contains("still arriving"), r.warnings().toString());
            var vm = node.launcher.launched().getLast().config();
            assertNotNull(vm.uffd(), "guest memory behind a page server");
            assertEquals(dir.resolve(Snapshot.SPARSE_MEMORY), vm.memoryFile(), "the arriving file is the one served");
            assertTrue(node.platform.metrics().render().contains("thaw_early_restores_total{function=\"hello\"} 1.0"));

            arrive(f, dir, progress);
            assertTrue(pending.complete());
            assertFalse(Files.exists(dir.resolveSibling(FunctionRegistry.FETCHING)));
            node.platform.snapshotFile("hello", Snapshot.MEMORY); // offered to peers now
            InvocationResult plain = node.platform.invoke("hello", Json.object(), Mode.VANILLA);
            assertEquals("vanilla", plain.coldStart(), "complete: the mode asked for");
            assertNull(plain.warnings());
            assertEquals(dir.resolve(Snapshot.MEMORY), node.launcher.launched().getLast().config().memoryFile());
        }
    }

    @Test
    void aFetchThatFailsForGoodFailsItsCallsNamingTheFetchAndLeavesNothing() throws IOException {
        try (FakePlatform origin = new FakePlatform(); FakePlatform node = new FakePlatform()) {
            origin.deploy("hello");
            Fetch f = stage(origin, node, "hello");
            FetchProgress progress = new FetchProgress(f.manifest().file(Snapshot.SPARSE_MEMORY).size(), Duration.ofSeconds(30));
            PendingInstall pending = node.platform.installPending("hello", f.staging(), f.manifest(), progress);
            node.platform.invoke("hello", Json.object(), Mode.WARM); // an instance restored early, now idle
            assertEquals(1, node.launcher.running());

            progress.fail(new IOException("peer n1 answered 500"));
            node.launcher.failNextLaunch(new VmException.Died("QEMU was killed by its page server"));
            ThawException e = assertThrows(ThawException.class, () -> node.platform.invoke("hello", Json.object(), Mode.THAW));
            assertEquals("snapshot_fetch_failed", e.code());
            assertTrue(e.getMessage().contains("peer n1 answered 500"), e.getMessage());

            // a restore that fails before its VM runs (e.g. its files went with the failed fetch): the same answer
            node.launcher.failNextLaunch(new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("memory.sparse")));
            ThawException early = assertThrows(ThawException.class, () -> node.platform.invoke("hello", Json.object(), Mode.THAW));
            assertEquals("snapshot_fetch_failed", early.code());
            assertEquals(ThawException.Kind.VM_FAILED, early.kind());

            pending.abandon();
            assertEquals(0, node.launcher.running(), "its instances stopped");
            assertTrue(node.platform.functions().isEmpty());
            try (var left = Files.list(node.root.resolve("data/functions"))) {
                assertEquals(List.of(), left.toList(), "no directory, no half file");
            }
            assertFalse(pending.complete(), "gone: nothing to complete");
        }
    }

    @Test
    void anEarlyInstallInterruptedByACrashIsDeletedAtStartUp() throws IOException {
        try (FakePlatform origin = new FakePlatform(); FakePlatform node = new FakePlatform()) {
            origin.deploy("hello");
            Fetch f = stage(origin, node, "hello");
            node.platform.installPending("hello", f.staging(), f.manifest(),
                    new FetchProgress(f.manifest().file(Snapshot.SPARSE_MEMORY).size(), Duration.ofSeconds(30)));
            Platform again = new Platform(node.platform.config(), node.image, new FakeLauncher(node.ticker::advance), node.ticker, false);
            try (again) {
                assertTrue(again.functions().isEmpty(), "refetched from the registry rather than trusted");
                assertTrue(again.brokenFunctions().isEmpty());
                assertFalse(Files.exists(node.root.resolve("data/functions/hello")));
            }
        }
    }
}
