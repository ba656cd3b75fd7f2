package dev.thaw.platform;

import dev.thaw.guest.GuestImage;
import dev.thaw.vm.Accel;
import dev.thaw.vm.FakeGuest;
import dev.thaw.vm.FakeLauncher;
import dev.thaw.vm.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.thaw.memory.PageAvailability;
import dev.thaw.memory.PageServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VMM pool's accounting on the fake launcher: pooled VMMs hold budget like instances, the
 * pool never starts one past the limits nor evicts anything for it, a restore that needs room
 * gives pooled VMMs up first, a taken VMM never comes back, and dead ones are discarded. Refills
 * run on the caller's thread here, so every step is deterministic.
 */
class VmmPoolTest {
    private static final GuestImage IMAGE = new GuestImage("fake", Path.of("/nonexistent"), "6.1.0-fake");
    private static final VmmShape SHAPE = new VmmShape(IMAGE, 256, 1, Accel.TCG);
    private static final VmmShape OTHER = new VmmShape(IMAGE, 512, 1, Accel.TCG);

    private final ManualTicker ticker = new ManualTicker();
    private final FakeLauncher launcher = new FakeLauncher(ticker::advance);

    private InstanceManager instances(int maxInstances, long memoryMib) {
        return new InstanceManager(new Limits(maxInstances, memoryMib, 2, 4, Duration.ofSeconds(5)), new Metrics(), ticker);
    }

    @TempDir
    Path tmp;

    /** A real page server awaiting each fake VMM's handshake over a real userfaultfd (FakeGuest sends it). */
    private VmmPool pool(InstanceManager instances, int perShape) {
        VmmPool.Handover handover = shape -> {
            Path placeholder = tmp.resolve("memory-" + shape.memoryMib() + "M");
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(placeholder.toFile(), "rw")) {
                f.setLength((long) shape.memoryMib() << 20);
            }
            Path socket = tmp.resolve("p-" + Ids.shortId() + ".sock");
            PageServer server = PageServer.awaitVmm(socket, (long) shape.memoryMib() << 20, PageServer.Options.DEFAULT, PageAvailability.COMPLETE);
            return new VmmPool.Handover.Opened(VmConfig.pooled(shape.image(), shape.memoryMib(), shape.vcpus(), shape.accel(),
                    placeholder, new VmConfig.Uffd(Path.of("/lib/preload.so"), socket)), server);
        };
        VmmPool pool = new VmmPool(launcher, instances, handover, Runnable::run, perShape);
        instances.onNeedRoom(pool::giveUpOne);
        return pool;
    }

    @Test
    void fillsEachShapeAndEveryPooledVmmHoldsBudget() {
        InstanceManager instances = instances(8, 4096);
        VmmPool pool = pool(instances, 2);
        pool.maintain(List.of(SHAPE, OTHER));
        assertEquals(4, pool.waiting());
        assertEquals(4, launcher.restores(), "each pooled VMM is a QEMU started to be restored");
        assertArrayEquals(new long[]{4, 2 * 256 + 2 * 512}, instances.reserved());
        for (FakeGuest g : launcher.launched()) {
            assertTrue(g.config().restoring() && g.config().incomingState() == null, "started paused, bound to no snapshot");
        }
    }

    @Test
    void neverStartsPastTheInstanceOrMemoryLimitAndEvictsNothingForIt() {
        InstanceManager instances = instances(3, 4096);
        VmmPool pool = pool(instances, 5);
        pool.maintain(List.of(SHAPE));
        assertEquals(3, pool.waiting(), "stops at --max-instances");

        InstanceManager small = instances(16, 600);
        VmmPool byMemory = pool(small, 5);
        byMemory.maintain(List.of(SHAPE));
        assertEquals(2, byMemory.waiting(), "stops at the memory budget: 2 × 256 of 600 MiB");
        assertArrayEquals(new long[]{2, 512}, small.reserved());
    }

    @Test
    void aTakenVmmIsNeverReturnedAndTheTakeIsRefilled() {
        InstanceManager instances = instances(8, 4096);
        VmmPool pool = pool(instances, 1);
        pool.maintain(List.of(SHAPE));
        PooledVmm first = pool.take(SHAPE);
        assertNotNull(first);
        assertTrue(first.taken());
        assertFalse(first.take(), "a pooled VMM is taken once, by one restore");
        assertNull(pool.take(SHAPE), "the pool had one, and does not get it back");
        pool.refill(SHAPE);
        PooledVmm second = pool.take(SHAPE);
        assertNotNull(second);
        assertNotSame(first, second);
        assertNull(pool.take(OTHER), "no VMM of a shape nobody asked for");
        assertEquals(2, pool.stats().path("hits").asLong());
        assertEquals(2, pool.stats().path("misses").asLong());
        assertArrayEquals(new long[]{2, 512}, instances.reserved(), "the two taken VMMs keep their budget for their instances");
        first.discard();
        second.discard();
        assertArrayEquals(new long[]{0, 0}, instances.reserved());
    }

    @Test
    void aRestoreThatNeedsRoomGivesPooledVmmsUpBeforeFailing() {
        InstanceManager instances = instances(4, 1024);
        VmmPool pool = pool(instances, 4);
        pool.maintain(List.of(SHAPE));
        assertEquals(4, pool.waiting());
        InstanceManager.Reservation r = instances.reserve(512); // needs two pooled VMMs' worth of memory and a slot
        assertEquals(2, pool.waiting());
        assertEquals(2, pool.stats().path("given_up").asLong());
        assertEquals(2, launcher.launched().stream().filter(FakeGuest::closed).count(), "the given-up QEMUs are stopped");
        assertArrayEquals(new long[]{3, 1024}, instances.reserved());
        r.close();
        pool.close();
        assertArrayEquals(new long[]{0, 0}, instances.reserved());
    }

    @Test
    void aPooledVmmThatDiedIsDiscardedNotHandedOut() {
        InstanceManager instances = instances(8, 4096);
        VmmPool pool = pool(instances, 2);
        pool.maintain(List.of(SHAPE));
        FakeGuest dead = launcher.launched().getFirst();
        dead.kill();
        PooledVmm vmm = pool.take(SHAPE);
        assertNotNull(vmm);
        assertNotSame(dead, vmm.guest());
        assertTrue(dead.closed(), "the dead VMM was stopped");
        assertEquals(1, pool.stats().path("died").asLong());
        launcher.launched().get(1).kill();
        pool.maintain(List.of(SHAPE)); // the upkeep discards the dead and fills again
        assertEquals(2, pool.waiting());
        assertEquals(4, launcher.launched().size());
    }

    @Test
    void shapesNoLongerDeployedAreStoppedAndZeroDisablesThePool() {
        InstanceManager instances = instances(8, 4096);
        VmmPool pool = pool(instances, 1);
        pool.maintain(List.of(SHAPE, OTHER));
        pool.maintain(List.of(OTHER));
        assertEquals(1, pool.waiting());
        assertArrayEquals(new long[]{1, 512}, instances.reserved());
        pool.size(0);
        assertEquals(0, pool.waiting());
        assertNull(pool.take(OTHER));
        assertArrayEquals(new long[]{0, 0}, instances.reserved());
        assertThrows(IllegalArgumentException.class, () -> pool.size(-1));
    }
}
