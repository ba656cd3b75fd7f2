package dev.thaw.scale;

import dev.thaw.scale.DispatchPolicy.Decision;
import dev.thaw.scale.DispatchPolicy.Inputs;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DispatchPolicyTest {
    static final double INF = Double.POSITIVE_INFINITY;

    @Test
    void anIdleInstanceIsTakenWhateverElse() {
        assertEquals(Decision.IDLE, DispatchPolicy.decide(new Inputs(1, 0, 0, 5, 10, 400, true, INF)));
    }

    @Test
    void fourBusyInstancesOfAFastFunctionAreWorthWaitingFor() {
        // 3 ahead, 10 ms calls, 4 busy: ~10 ms of waiting against a 400 ms restore
        var in = new Inputs(0, 4, 0, 3, 10, 400, true, INF);
        assertEquals(10.0, DispatchPolicy.expectedWaitMs(in), 1e-9);
        assertEquals(Decision.QUEUE, DispatchPolicy.decide(in));
    }

    @Test
    void aLongQueueOrSlowCallsMakeARestoreFaster() {
        assertEquals(Decision.RESTORE, DispatchPolicy.decide(new Inputs(0, 4, 0, 200, 10, 400, true, INF)));
        assertEquals(Decision.RESTORE, DispatchPolicy.decide(new Inputs(0, 1, 0, 0, 2000, 400, true, INF)));
    }

    @Test
    void withNoInstanceAtAllTheOnlyWayIsARestore() {
        assertEquals(Decision.RESTORE, DispatchPolicy.decide(new Inputs(0, 0, 0, 0, 10, 400, true, INF)));
        assertEquals(Decision.AWAIT_SLOT, DispatchPolicy.decide(new Inputs(0, 0, 0, 0, 10, 400, false, 50)),
                "never refuse a function's first instance for lack of a slot");
    }

    @Test
    void aRestoreUnderWayIsAServerToWaitFor() {
        // nothing busy, one restore under way: wait ~200 ms for it rather than start a second 400 ms one
        assertEquals(Decision.QUEUE, DispatchPolicy.decide(new Inputs(0, 0, 1, 0, 10, 400, true, INF)));
    }

    @Test
    void aWantedRestoreWithoutASlotWaitsUnlessTheQueueIsTooSlowThenItIsRefused() {
        assertEquals(Decision.AWAIT_SLOT, DispatchPolicy.decide(new Inputs(0, 4, 0, 200, 10, 400, false, INF)));
        assertEquals(Decision.REJECT, DispatchPolicy.decide(new Inputs(0, 4, 0, 200, 10, 400, false, 200)));
    }

    @Test
    void aQueueLongerThanTheBoundIsRefusedQuickly() {
        // waiting (300 ms) beats a 1 s restore but exceeds the 200 ms bound
        assertEquals(Decision.REJECT, DispatchPolicy.decide(new Inputs(0, 1, 0, 29, 10, 1000, true, 200)));
        assertEquals(Decision.QUEUE, DispatchPolicy.decide(new Inputs(0, 1, 0, 29, 10, 1000, true, 400)));
    }
}
