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

    @Test
    void aRefusalIsJudgedByTheTailOfTheServiceTimesNotTheirMean() {
        // 10 ms calls on average, but one in ten takes 120 ms: 4 busy, 3 ahead
        var in = new Inputs(0, 4, 0, 3, 10, 400, true, 100, 120, 0);
        assertEquals(10.0, DispatchPolicy.expectedWaitMs(in), 1e-9, "the expected wait still uses the mean");
        assertEquals(120.0, DispatchPolicy.boundWaitMs(in), 1e-9);
        assertEquals(Decision.REJECT, DispatchPolicy.decide(in));
        assertEquals(Decision.QUEUE, DispatchPolicy.decide(new Inputs(0, 4, 0, 3, 10, 400, true, 100, 90, 0)));
    }

    @Test
    void aStallSeenByTheOldestWaitingCallIsRefusedThoughTheServiceTimesLookFast() {
        // the recent (completed) calls took 10 ms, but the oldest queued call has waited 150 ms already
        var in = new Inputs(0, 4, 0, 2, 10, 400, true, 100, 10, 150);
        assertEquals(150.0, DispatchPolicy.boundWaitMs(in), 1e-9);
        assertEquals(Decision.REJECT, DispatchPolicy.decide(in));
        assertEquals(Decision.QUEUE, DispatchPolicy.decide(new Inputs(0, 4, 0, 2, 10, 400, true, 100, 10, 60)));
    }

    @Test
    void theTailAndTheQueuesAgeDoNotTurnQueueingIntoRestoring() {
        // queue vs restore is a choice of the faster on average: a slow tail does not set off restores
        assertEquals(Decision.QUEUE, DispatchPolicy.decide(new Inputs(0, 4, 0, 3, 10, 400, true, INF, 1000, 900)));
        // without a slot, a queue that is too slow by the bound is refused rather than left waiting
        assertEquals(Decision.AWAIT_SLOT, DispatchPolicy.decide(new Inputs(0, 4, 0, 200, 10, 400, false, 600, 10, 0)));
        assertEquals(Decision.REJECT, DispatchPolicy.decide(new Inputs(0, 4, 0, 200, 10, 400, false, 600, 10, 700)));
    }
}
