package dev.thaw.load;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The load generator's time: where {@link LoadRunner} reads the clock and every way it waits
 * for it — parking until a send is due, spinning the last stretch, blocking on its sockets
 * until an answer or the next due time, and the progress thread's sleep.
 *
 * <p>It exists so that tests can run the generator on a manual clock and say exactly when time
 * moves, instead of sleeping and hoping the machine keeps up. Production uses {@link #SYSTEM},
 * which is the calls the runner made before, one to one: {@code System.nanoTime()},
 * {@code LockSupport.parkNanos}, {@code Thread.onSpinWait}, {@code Selector.select}. The
 * runner holds its clock in a final field and only {@link #SYSTEM} is loaded in a real run, so
 * the JIT inlines these calls; nothing here allocates. The clock changes nothing about what is
 * measured: latency still runs from an invocation's scheduled time.
 *
 * <p>Every waiting method may return early (an unpark, a selector wakeup, an I/O event, a
 * spurious wakeup); the runner reads the clock again after each.
 */
interface LoadClock {
    /** The JVM's monotonic clock and the JDK's own waits. */
    LoadClock SYSTEM = new SystemClock();

    /** Now, in nanoseconds from an arbitrary origin (only differences count). */
    long nanoTime();

    /** Parks the calling thread for at most {@code nanos}; {@link LockSupport#unpark} ends it early. */
    void parkNanos(long nanos);

    /** One turn of a busy wait for a time that is very near. */
    void onSpinWait();

    /**
     * Blocks on {@code selector} for at most {@code timeoutMillis} (at least 1), handing each
     * ready key to {@code action}; {@link Selector#wakeup} ends it early.
     */
    int select(Selector selector, Consumer<SelectionKey> action, long timeoutMillis) throws IOException;

    /** Sleeps for {@code nanos}, for the progress thread. */
    void sleepNanos(long nanos) throws InterruptedException;

    /** {@link LoadClock#SYSTEM}. */
    final class SystemClock implements LoadClock {
        private SystemClock() {}

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void parkNanos(long nanos) {
            LockSupport.parkNanos(nanos);
        }

        @Override
        public void onSpinWait() {
            Thread.onSpinWait();
        }

        @Override
        public int select(Selector selector, Consumer<SelectionKey> action, long timeoutMillis) throws IOException {
            return selector.select(action, timeoutMillis);
        }

        @Override
        public void sleepNanos(long nanos) throws InterruptedException {
            TimeUnit.NANOSECONDS.sleep(nanos);
        }
    }
}
