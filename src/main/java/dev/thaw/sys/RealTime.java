package dev.thaw.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Opt-in real-time scheduling ({@code SCHED_FIFO}) for the calling thread only, for
 * {@code --realtime}: on a machine shared with CPU-bound work, a normal thread that wakes up
 * can wait several milliseconds (tens, at times) for a CPU, and every such wait is schedule
 * lag. A FIFO thread runs as soon as it is runnable. Only the generator's loop thread (and the
 * self-test server's selector thread) is raised, never the JVM's compiler or GC threads; the
 * loop sleeps between batches, and the kernel's real-time throttling (95% by default) bounds
 * it even if it did not. Needs root or CAP_SYS_NICE; without them nothing changes.
 */
public final class RealTime {
    private static final System.Logger LOG = System.getLogger(RealTime.class.getName());
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;
    private static final MethodHandle SET_SCHEDULER = lookup();
    /** Low among real-time priorities: above every normal thread, below the kernel's own. */
    public static final int PRIORITY = 10;

    private RealTime() {}

    private static MethodHandle lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("sched_setscheduler")
                    .map(address -> linker.downcallHandle(address, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot link sched_setscheduler", e);
            return null;
        }
    }

    /** Puts the calling thread in {@code SCHED_FIFO} at {@code priority} (1–99); returns whether it worked. */
    public static boolean fifo(int priority) {
        return set(SCHED_FIFO, priority);
    }

    /** Puts the calling thread back in the normal time-sharing class. */
    public static boolean normal() {
        return set(SCHED_OTHER, 0);
    }

    private static boolean set(int policy, int priority) {
        if (SET_SCHEDULER == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(ValueLayout.JAVA_INT);
            param.set(ValueLayout.JAVA_INT, 0, priority);
            // pid 0 is the calling thread on Linux.
            return (int) SET_SCHEDULER.invokeExact(0, policy, param) == 0;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot change the scheduling policy", e);
            return false;
        }
    }
}
