package dev.thaw.platform;

import dev.thaw.memory.PageServer;
import dev.thaw.vm.CallHandler;
import dev.thaw.vm.Guest;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One pre-started VMM waiting in the {@link VmmPool}: a QEMU paused with {@code -incoming defer},
 * its guest RAM behind userfaultfd, the {@link PageServer} that holds its handshake (null on the
 * fake launcher, which has no memory to serve), and the budget it holds.
 *
 * <p>Taken once: {@link #take()} succeeds for one caller only, and a taken VMM is bound to that
 * caller's snapshot or discarded, never returned to the pool (its page server refuses a second
 * bind as well). Calls its guest makes to other functions go to whatever handler the restore
 * that took it names, since the function is not known when the VMM starts.
 */
final class PooledVmm {
    private final VmmShape shape;
    private final Guest guest;
    private final PageServer server;
    private final InstanceManager.Reservation reservation;
    private final AtomicReference<CallHandler> calls;
    private final AtomicBoolean taken = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    PooledVmm(VmmShape shape, Guest guest, PageServer server, InstanceManager.Reservation reservation,
              AtomicReference<CallHandler> calls) {
        this.shape = shape;
        this.guest = guest;
        this.server = server;
        this.reservation = reservation;
        this.calls = calls;
    }

    VmmShape shape() {
        return shape;
    }

    Guest guest() {
        return guest;
    }

    /** The page server holding the VMM's userfaultfd, unbound until a restore takes it; null on the fake launcher. */
    PageServer server() {
        return server;
    }

    /** The budget this VMM holds; passes to the instance it becomes. */
    InstanceManager.Reservation reservation() {
        return reservation;
    }

    /** Whether the VMM still waits usefully: its process runs and its page server has not ended. */
    boolean alive() {
        return !closed.get() && guest.alive() && (server == null || !server.done().isDone());
    }

    /** True for the one caller that takes this VMM out of the pool; false for everyone after. */
    boolean take() {
        return taken.compareAndSet(false, true);
    }

    boolean taken() {
        return taken.get();
    }

    /** The function the VMM will run: its guest's calls go to {@code handler} from now on. */
    void callsTo(CallHandler handler) {
        calls.set(handler);
    }

    /** Stops an untaken (or failed) VMM and gives its budget back; idempotent. */
    void discard() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            guest.close();
        } finally {
            if (server != null) server.close();
            reservation.close();
        }
    }
}
