package dev.thaw.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Linux lets a sleeping thread wake up to 50 µs late by default ("timer slack"), which would
 * put a floor under the scheduler's lateness. {@code prctl(PR_SET_TIMERSLACK, 1)} asks for
 * 1 ns on the calling thread. Best effort: elsewhere, or if the call fails, nothing changes.
 */
public final class TimerSlack {
    private static final System.Logger LOG = System.getLogger(TimerSlack.class.getName());
    private static final int PR_SET_TIMERSLACK = 29;

    /** Built once: every downcall handle spins new hidden classes. Null where prctl is missing. */
    private static final MethodHandle PRCTL = lookup();

    private TimerSlack() {}

    private static MethodHandle lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("prctl")
                    .map(address -> linker.downcallHandle(address,
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                            Linker.Option.firstVariadicArg(1)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot link prctl", e);
            return null;
        }
    }

    /** Sets the calling thread's timer slack; returns whether it worked. */
    public static boolean minimise() {
        if (PRCTL == null) {
            return false;
        }
        try {
            return (int) PRCTL.invokeExact(PR_SET_TIMERSLACK, 1L) == 0;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot set the timer slack", e);
            return false;
        }
    }
}
