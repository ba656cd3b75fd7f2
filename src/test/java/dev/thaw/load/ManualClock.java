package dev.thaw.load;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A {@link LoadClock} that moves only when the test says: time starts at 0 and changes only
 * through {@link #advanceTo}. The runner's waits block until time moves (or, for its selector,
 * until an answer arrives, or until it is unparked or woken by an abort), so a test decides
 * exactly when each invocation becomes due, when a timeout passes and when an answer lands.
 *
 * <p>The sockets stay real, so a test must know that the runner has done everything it can at
 * the current time before moving it: {@link #awaitIdle} returns once the runner is blocked in a
 * wait having read the current time, and a condition on what it has received holds. A wait
 * entered on a stale reading returns at once, so the runner never sleeps through an advance it
 * has not seen. Only the runner's loop thread may call {@link #nanoTime}: a read is what tells
 * the clock the runner has seen the time (the test reads {@link #now}).
 */
final class ManualClock implements LoadClock {
    /** How long a test waits for the runner, in real time, before failing instead of hanging. */
    private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(20);

    private final Object lock = new Object();
    // All guarded by lock.
    private long now;
    private long epoch;        // bumped by every advance
    private long epochRead;    // the epoch of the runner's last reading
    private boolean waiting;
    private long waitEpoch;
    private Thread parked;
    private Selector selecting;

    @Override
    public long nanoTime() {
        synchronized (lock) {
            epochRead = epoch;
            return now;
        }
    }

    /** The time, for the test (not a reading by the runner). */
    long now() {
        synchronized (lock) {
            return now;
        }
    }

    @Override
    public void parkNanos(long nanos) {
        if (enter(Thread.currentThread(), null)) {
            try {
                LockSupport.park(this);
            } finally {
                leave();
            }
        }
    }

    @Override
    public void onSpinWait() {
        parkNanos(0);
    }

    @Override
    public int select(Selector selector, Consumer<SelectionKey> action, long timeoutMillis) throws IOException {
        if (!enter(null, selector)) {
            return selector.selectNow(action);
        }
        try {
            return selector.select(action); // until an answer, an advance (wakeup) or an abort (wakeup)
        } finally {
            leave();
        }
    }

    @Override
    public void sleepNanos(long nanos) throws InterruptedException {
        synchronized (lock) {
            long until = now + nanos;
            while (now < until) {
                lock.wait();
            }
        }
    }

    /** Registers a wait; false when time has moved since the runner last looked (then it must look again). */
    private boolean enter(Thread thread, Selector selector) {
        synchronized (lock) {
            if (epochRead != epoch) {
                return false;
            }
            waiting = true;
            waitEpoch = epoch;
            parked = thread;
            selecting = selector;
            lock.notifyAll();
            return true;
        }
    }

    private void leave() {
        synchronized (lock) {
            waiting = false;
            parked = null;
            selecting = null;
        }
    }

    /** Moves time to {@code nanos} (never back) and wakes the runner. */
    void advanceTo(long nanos) {
        synchronized (lock) {
            if (nanos < now) {
                throw new IllegalArgumentException("time goes forward: " + nanos + " < " + now);
            }
            now = nanos;
            epoch++;
            if (parked != null) {
                LockSupport.unpark(parked);
            }
            if (selecting != null) {
                selecting.wakeup();
            }
            lock.notifyAll();
        }
    }

    void advanceTo(Duration sinceZero) {
        advanceTo(sinceZero.toNanos());
    }

    /** Waits until the runner is blocked having seen the current time. */
    void awaitIdle() {
        awaitIdle(() -> true, "idle");
    }

    /**
     * Waits until the runner is blocked having seen the current time and {@code condition} holds.
     * The condition is about what the runner did, which changes only before it blocks again, so it
     * is checked each time the runner starts to wait.
     */
    void awaitIdle(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        synchronized (lock) {
            while (!(waiting && waitEpoch == epoch && condition.getAsBoolean())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the runner never waited with " + what + " at " + now + " ns");
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for the runner", e);
                }
            }
        }
    }
}
