package dev.thaw.load;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Linux lets a sleeping thread wake up to 50 µs late by default ("timer slack"), which would
 * put a floor under the scheduler's lateness. {@code prctl(PR_SET_TIMERSLACK, 1)} asks for
 * 1 ns on the calling thread. Best effort: elsewhere, or if the call fails, nothing changes.
 */
final class TimerSlack {
    private static final System.Logger LOG = System.getLogger(TimerSlack.class.getName());
    private static final int PR_SET_TIMERSLACK = 29;

    private TimerSlack() {}

    /** Sets the calling thread's timer slack; returns whether it worked. */
    static boolean minimise() {
        try {
            Linker linker = Linker.nativeLinker();
            var prctl = linker.defaultLookup().find("prctl");
            if (prctl.isEmpty()) {
                return false;
            }
            MethodHandle h = linker.downcallHandle(prctl.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
            return (int) h.invokeExact(PR_SET_TIMERSLACK, 1L) == 0;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot set the timer slack", e);
            return false;
        }
    }
}
