package dev.thaw.platform;

import dev.thaw.common.Json;
import dev.thaw.memory.WorkingSet;
import dev.thaw.model.Mode;
import dev.thaw.snapshot.Manifest;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.snapshot.SnapshotWriter;
import dev.thaw.vm.Accel;
import dev.thaw.vm.FakeGuest;
import dev.thaw.vm.FakeLauncher;
import dev.thaw.vm.VmConfig;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pooled {@code thaw} restore on fake guests, through the whole platform: each function gets
 * a working-set record (so {@code thaw} is usable), the fake VMMs hand their memory to real page
 * servers over a real userfaultfd (FakeGuest), and the pool is filled by the platform's own
 * handover. What PoolIT checks on QEMU, here deterministic: a VMM serves one snapshot, a failed
 * bind costs only that invocation, the limits count pooled VMMs, the refill waits for the reply,
 * and making room gives up the VMMs a restore cannot use first.
 */
class PooledRestoreTest {
    private static final int PAGE = 4096;

    /** A platform restarted over deployed functions that each have a record and a distinct memory content. */
    private record Setup(FakePlatform fake, FakeLauncher launcher, Platform platform, Map<String, byte[]> contents) implements AutoCloseable {
        VmmShape shape(String function) throws Exception {
            Manifest m = Snapshot.open(fake.root.resolve("data/functions").resolve(function).resolve("snapshot")).manifest();
            return VmmShape.of(fake.image, m.machine());
        }

        void fill(String... functions) throws Exception {
            for (String f : functions) platform.pool().refill(shape(f)).get(10, TimeUnit.SECONDS);
        }

        /** The first 8 pages the guest's memory holds now (a fault into its page server, or the install's copy). */
        byte[] guestPages(FakeGuest g) {
            return g.memory().asSlice(0, 8L * PAGE).toArray(JAVA_BYTE);
        }

        @Override
        public void close() {
            platform.close();
            fake.close();
        }
    }

    /**
     * Deploys {@code functions} (name → memory MiB), makes each snapshot's memory file as long as
     * the VM's memory (sparse) with 8 random pages first, records pages 0..7 in two groups and
     * 8..15 as zero pages, and restarts the platform so it reads the records.
     */
    private static Setup setup(Limits limits, int pool, Map<String, Integer> functions) throws Exception {
        return setup(limits, pool, functions, true);
    }

    /** @param fullMemory false: leave the fake's 64 KiB memory file, shorter than the VM's memory (a bind refuses it) */
    private static Setup setup(Limits limits, int pool, Map<String, Integer> functions, boolean fullMemory) throws Exception {
        FakePlatform fake = new FakePlatform(limits);
        java.util.Map<String, byte[]> contents = new java.util.HashMap<>();
        long seed = 1;
        for (var f : functions.entrySet()) {
            fake.deploy(f.getKey(), "{\"name\": \"" + f.getKey() + "\", \"memory_mib\": " + f.getValue() + ", \"record\": false}");
            Path snap = fake.root.resolve("data/functions").resolve(f.getKey()).resolve("snapshot");
            Manifest m = Snapshot.open(snap).manifest();
            byte[] content = new byte[8 * PAGE];
            new java.util.SplittableRandom(seed++).nextBytes(content);
            contents.put(f.getKey(), content);
            long bytes = fullMemory ? (long) m.machine().memoryMib() << 20 : 64 * 1024;
            try (RandomAccessFile file = new RandomAccessFile(snap.resolve(Snapshot.MEMORY).toFile(), "rw")) {
                file.setLength(bytes);
                file.write(content);
            }
            BitSet first = new BitSet(), second = new BitSet(), zero = new BitSet();
            first.set(0, 4);
            second.set(4, 8);
            zero.set(8, 16);
            WorkingSet.of(m.snapshotId(), bytes / PAGE, 4, List.of(first, second), zero).write(snap.resolve(Snapshot.WORKING_SET));
            SnapshotWriter.seal(snap, m.snapshotId(), f.getKey(), fake.image,
                    VmConfig.boot(fake.image, m.machine().memoryMib(), m.machine().vcpus(), Accel.TCG, snap.resolve(Snapshot.MEMORY)));
        }
        fake.platform.close();
        FakeLauncher launcher = new FakeLauncher(fake.ticker::advance);
        Platform platform = new Platform(fake.platform.config(), fake.image, launcher, fake.ticker, false);
        platform.pool().size(pool); // no upkeep thread: the test fills the pool itself
        return new Setup(fake, launcher, platform, contents);
    }

    private static Limits limits(int maxInstances, long memoryMib) {
        return new Limits(maxInstances, memoryMib, 2, 4, Duration.ofSeconds(5));
    }

    @Test
    void aThawRestoreBindsAPooledVmmToItsSnapshotAndTheRefillWaitsForTheReply() throws Exception {
        try (Setup s = setup(limits(8, 4096), 1, Map.of("hello", 128, "bye", 128))) {
            s.fill("hello");
            assertEquals(1, s.platform.pool().waiting());
            FakeGuest pooled = s.launcher.launched().getFirst();
            assertNull(pooled.function(), "a pooled VMM belongs to no function");

            CompletableFuture<InvocationResult> call = CompletableFuture.supplyAsync(
                    () -> s.platform.invoke("hello", Json.object().put("gate", "g"), Mode.THAW));
            s.launcher.awaitAtGate(1);
            assertEquals(0, s.platform.pool().waiting());
            assertEquals(1, s.launcher.launched().size(), "no QEMU beside the restore: neither its own nor the refill, before the reply");
            s.launcher.gate("g").countDown();
            InvocationResult r = call.get(10, TimeUnit.SECONDS);
            assertEquals("thaw", r.coldStart());
            assertNull(r.warnings());
            assertNotNull(r.timing().vmmBind(), "a pooled restore binds");
            assertNull(r.timing().vmmStart(), "and starts no VMM");
            assertEquals("hello", pooled.function());
            assertArrayEquals(s.contents.get("hello"), s.guestPages(pooled), "the VMM serves hello's memory");

            s.platform.restorer.awaitBackground("hello"); // the refill, started after the reply
            assertEquals(2, s.launcher.launched().size());
            assertEquals(1, s.platform.pool().waiting());
            FakeGuest next = s.launcher.launched().getLast();
            assertNotSame(pooled, next);

            // Another function of the same shape gets the new VMM, never the one serving hello.
            InvocationResult b = s.platform.invoke("bye", Json.object(), Mode.THAW);
            assertEquals("thaw", b.coldStart());
            assertEquals("bye", next.function());
            assertArrayEquals(s.contents.get("bye"), s.guestPages(next), "the second VMM serves bye's memory");
            assertArrayEquals(s.contents.get("hello"), s.guestPages(pooled), "and the first still hello's");
            assertEquals(2, s.platform.stats().path("vmm_pool").path("hits").asLong());
        }
    }

    @Test
    void aFailedBindDiscardsTheVmmGivesItsBudgetBackFailsTheCallAndRefills() throws Exception {
        // A memory file shorter than the VMM's memory: the page server refuses the bind.
        try (Setup s = setup(limits(8, 4096), 1, Map.of("hello", 128), false)) {
            s.fill("hello");
            FakeGuest pooled = s.launcher.launched().getFirst();
            ThawException e = assertThrows(ThawException.class, () -> s.platform.invoke("hello", Json.object(), Mode.THAW));
            assertEquals(ThawException.Kind.VM_FAILED, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("shorter"), e.getMessage());
            assertTrue(pooled.closed(), "the VMM that failed to bind is stopped");
            assertNull(pooled.function());
            assertTrue(s.platform.instances().isEmpty(), "no instance was left behind");
            s.platform.restorer.awaitBackground("hello");
            assertEquals(1, s.platform.pool().waiting(), "the pool started a replacement");
            assertEquals(2, s.launcher.launched().size());
            assertArrayEquals(new long[]{1, 128}, s.platform.instances.reserved(), "only the replacement holds budget");
        }
    }

    @Test
    void pooledVmmsCountInTheLimitsAndAreGivenUpBeforeAnIdleInstance() throws Exception {
        try (Setup s = setup(limits(2, 4096), 3, Map.of("hello", 128))) {
            s.fill("hello");
            assertEquals(2, s.platform.pool().waiting(), "never past --max-instances");
            assertEquals("thaw", s.platform.invoke("hello", Json.object(), Mode.THAW).coldStart());
            s.platform.restorer.awaitBackground("hello");
            assertEquals(1, s.platform.pool().waiting(), "the refill found no room: one instance, one pooled VMM");
            assertArrayEquals(new long[]{2, 256}, s.platform.instances.reserved());

            // A vanilla restore needs a slot: the pooled VMM goes, the idle instance stays.
            String idle = s.platform.instances().getFirst().id();
            assertEquals("vanilla", s.platform.invoke("hello", Json.object(), Mode.VANILLA).coldStart());
            assertEquals(0, s.platform.pool().waiting());
            assertEquals(1, s.platform.stats().path("vmm_pool").path("given_up").asLong());
            assertTrue(s.platform.instances().stream().anyMatch(i -> i.id().equals(idle)), "the idle instance was not evicted");
            s.fill("hello");
            assertEquals(0, s.platform.pool().waiting(), "a full budget starts no VMM");
        }
        try (Setup s = setup(limits(8, 300), 3, Map.of("hello", 128))) {
            s.fill("hello");
            assertEquals(2, s.platform.pool().waiting(), "never past the memory budget: 2 × 128 of 300 MiB");
        }
    }

    @Test
    void makingRoomGivesUpVmmsOfOtherShapesFirst() throws Exception {
        try (Setup s = setup(limits(2, 4096), 1, Map.of("small", 128, "big", 256))) {
            VmmShape small = s.shape("small"), big = s.shape("big");
            // Both directions, so the order the pool happens to keep its shapes in cannot pass the test.
            for (String[] c : new String[][]{{"small", "big"}, {"big", "small"}}) {
                s.platform.instances().forEach(i -> s.platform.stopInstance(i.id()));
                s.fill("small", "big");
                assertEquals(2, s.platform.pool().waiting());
                VmmShape own = c[0].equals("small") ? small : big, other = own == small ? big : small;
                assertEquals("vanilla", s.platform.invoke(c[0], Json.object(), Mode.VANILLA).coldStart());
                assertTrue(s.platform.pool().hasWaiting(own), c[0] + "'s own shape is kept: its next warm miss takes it");
                assertFalse(s.platform.pool().hasWaiting(other), "the other shape's VMM made room");
            }
            // A thaw restore of a shape the pool holds takes that VMM and gives nothing up.
            s.platform.instances().forEach(i -> s.platform.stopInstance(i.id()));
            s.fill("small", "big");
            long givenUp = s.platform.stats().path("vmm_pool").path("given_up").asLong();
            FakeGuest bigVmm = s.launcher.launched().stream().filter(g -> g.config().memoryMib() == 256 && !g.closed())
                    .findFirst().orElseThrow();
            assertEquals("thaw", s.platform.invoke("big", Json.object(), Mode.THAW).coldStart());
            assertEquals("big", bigVmm.function());
            assertEquals(givenUp, s.platform.stats().path("vmm_pool").path("given_up").asLong());
            s.platform.restorer.awaitBackground("big"); // its refill: no room (small's VMM and big's instance)
            assertFalse(s.platform.pool().hasWaiting(big));

            // A thaw restore with none of its shape waiting and no room gives up the other shape's VMM.
            InvocationResult again = s.platform.invoke("big", Json.object(), Mode.THAW);
            assertEquals("thaw", again.coldStart());
            assertNotNull(again.timing().vmmStart(), "no VMM of its shape: it started its own");
            assertFalse(s.platform.pool().hasWaiting(small));
            assertEquals(givenUp + 1, s.platform.stats().path("vmm_pool").path("given_up").asLong());
        }
    }
}
