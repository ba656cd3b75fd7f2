package dev.thaw.platform;

import dev.thaw.common.Json;
import dev.thaw.memory.Prefetcher;
import dev.thaw.memory.WorkingSet;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.Manifest;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.snapshot.SnapshotWriter;
import dev.thaw.vm.Accel;
import dev.thaw.vm.FakeLauncher;
import dev.thaw.vm.VmConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * REAP and FaaSnap with a working-set record, on fake guests: the record is written into a fake
 * deployment's snapshot as the Recorder would (ws.json, memory.sparse, sealed), so the real
 * strategies run their real prefetches over real files.
 */
class RecordedStrategiesTest {
    /** Deploys {@code name}, then gives its snapshot a working-set record of pages 0..7 in two groups. */
    static Platform withRecord(FakePlatform fake, FakeLauncher launcher, String name) throws Exception {
        fake.deploy(name);
        Path snap = fake.root.resolve("data/functions").resolve(name).resolve("snapshot");
        Manifest m = Snapshot.open(snap).manifest();
        BitSet first = new BitSet();
        first.set(0, 4);
        BitSet second = new BitSet();
        second.set(4, 8);
        BitSet zero = new BitSet();
        zero.set(8, 16); // the fake's 64 KiB memory file is all zeros; call the last half zero pages
        WorkingSet.of(m.snapshotId(), 16, 4, List.of(first, second), zero).write(snap.resolve(Snapshot.WORKING_SET));
        Prefetcher.writeSparseCopy(snap.resolve(Snapshot.MEMORY), snap.resolve(Snapshot.SPARSE_MEMORY), zero);
        SnapshotWriter.seal(snap, m.snapshotId(), name, fake.image,
                VmConfig.boot(fake.image, m.machine().memoryMib(), m.machine().vcpus(), Accel.TCG, snap.resolve(Snapshot.MEMORY)));
        // A restart reads the record and derives the load plan from it.
        fake.platform.close();
        return new Platform(fake.platform.config(), fake.image, launcher, fake.ticker, false);
    }

    @Test
    void reapCacheReadsTheWorkingSetBeforeTheGuestResumes() throws Exception {
        // (reap itself serves memory over userfaultfd, which needs a real VMM: UffdIT)
        try (FakePlatform fake = new FakePlatform(); Platform platform = withRecord(fake, new FakeLauncher(fake.ticker::advance), "hello")) {
            assertTrue(platform.function("hello").workingSetRecorded());
            InvocationResult r = platform.invoke("hello", Json.object(), Mode.REAP_CACHE);
            assertEquals("reap-cache", r.coldStart());
            assertNull(r.warnings());
            assertNotNull(r.timing().prefetch(), "REAP's prefetch is a sequential phase");
            assertNull(r.timing().prefetchEnd());
            double sequential = r.timing().vmmStart() + r.timing().stateLoad() + r.timing().prefetch() + r.timing().resume();
            assertEquals(r.timing().total(), sequential + r.timing().guestExec() + r.timing().hostOverhead(), 0.001);
        }
    }

    @Test
    void faasnapMapsTheMemoryFileWithItsZeroRegionsAnonymousAndDoesNotWaitForItsPrefetch() throws Exception {
        FakePlatform fake = new FakePlatform();
        FakeLauncher launcher = new FakeLauncher(fake.ticker::advance);
        try (fake; Platform platform = withRecord(fake, launcher, "hello")) {
            InvocationResult r = platform.invoke("hello", Json.object(), Mode.FAASNAP);
            assertEquals("faasnap", r.coldStart());
            assertNull(r.warnings());
            VmConfig vm = launcher.launched().getLast().config();
            assertTrue(vm.memoryFile().endsWith(Snapshot.SPARSE_MEMORY), "the sparse copy under the regions: " + vm.memoryFile());
            assertNull(vm.uffd());
            assertNotNull(vm.regions(), "the per-region layout goes to the VMM");
            assertEquals("thaw-regions 1\npages 16\n8 8\nend\n", java.nio.file.Files.readString(vm.regions().list()));
            assertTrue(java.nio.file.Files.isRegularFile(vm.regions().preload()));
            double sequential = r.timing().vmmStart() + r.timing().stateLoad() + r.timing().resume();
            assertEquals(r.timing().total(), sequential + r.timing().guestExec() + r.timing().hostOverhead(), 0.001);
            platform.dropPageCache("hello");
            // A second restore reuses the list written for the snapshot.
            platform.invoke("hello", Json.object(), Mode.FAASNAP);
            assertEquals(vm.regions().list(), launcher.launched().getLast().config().regions().list());
        }
    }

    @Test
    void faasnapSparseRestoresFromTheSparseCopyAndDoesNotWaitForItsPrefetch() throws Exception {
        FakePlatform fake = new FakePlatform();
        FakeLauncher launcher = new FakeLauncher(fake.ticker::advance);
        try (fake; Platform platform = withRecord(fake, launcher, "hello")) {
            InvocationResult r = platform.invoke("hello", Json.object(), Mode.FAASNAP_SPARSE);
            assertEquals("faasnap-sparse", r.coldStart());
            assertNull(r.warnings());
            var guest = launcher.launched().getLast();
            assertTrue(guest.config().memoryFile().endsWith(Snapshot.SPARSE_MEMORY), guest.config().memoryFile().toString());
            // The prefetch ran beside the restore: never a slice of the total, whether or not it ended first.
            double sequential = r.timing().vmmStart() + r.timing().stateLoad() + r.timing().resume();
            assertEquals(r.timing().total(), sequential + r.timing().guestExec() + r.timing().hostOverhead(), 0.001);
            if (r.timing().prefetch() != null) assertNotNull(r.timing().prefetchEnd());
            platform.dropPageCache("hello"); // waits for the prefetch instead of racing it
        }
    }

    @Test
    void aWarmMissUsesTheRecordedDefaultStrategy() throws Exception {
        try (FakePlatform fake = new FakePlatform(); Platform platform = withRecord(fake, new FakeLauncher(fake.ticker::advance), "hello")) {
            assertEquals("thaw", platform.invoke("hello", Json.object(), Mode.WARM).coldStart());
        }
    }
}
