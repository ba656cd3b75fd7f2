package dev.thaw.platform;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-function concurrency and queue limits, without VMs or waiting. */
class AdmissionTest {
    final Metrics metrics = new Metrics();

    Admission admission(int concurrency, int queueDepth, Duration queueTimeout) {
        return new Admission(new Limits(8, 4096, concurrency, queueDepth, queueTimeout), metrics);
    }

    @Test
    void runsUpToTheConcurrencyLimitThenQueues() {
        Admission a = admission(2, 2, Duration.ZERO);
        Admission.Ticket t1 = a.enter("f");
        Admission.Ticket t2 = a.enter("f");
        t1.awaitTurn();
        t2.awaitTurn();
        Admission.Ticket queued = a.enter("f");
        assertTrue(metrics.render().contains("thaw_queue_length{function=\"f\"} 1"), metrics.render());
        t1.close();
        queued.awaitTurn(); // a slot is free: no waiting
        queued.close();
        t2.close();
    }

    @Test
    void aFullQueueIsRefusedAtOnceNamingTheLimit() {
        Admission a = admission(1, 1, Duration.ofSeconds(30));
        a.enter("f").awaitTurn();
        a.enter("f");
        ThawException e = assertThrows(ThawException.class, () -> a.enter("f"));
        assertEquals(ThawException.Kind.LIMIT, e.kind());
        assertEquals("queue_full", e.details().path("limit").asText());
        assertTrue(metrics.render().contains("thaw_rejections_total{reason=\"queue_full\"} 1"));
    }

    @Test
    void aQueuedInvocationTimesOutWhenNoSlotFreesInTime() {
        Admission a = admission(1, 4, Duration.ZERO);
        a.enter("f").awaitTurn();
        Admission.Ticket waiting = a.enter("f");
        ThawException e = assertThrows(ThawException.class, waiting::awaitTurn);
        assertEquals("queue_timeout", e.details().path("limit").asText());
        waiting.close(); // closing a timed-out ticket gives nothing back twice
        assertTrue(metrics.render().contains("thaw_queue_length{function=\"f\"} 0"), metrics.render());
    }

    @Test
    void functionsDoNotShareSlots() {
        Admission a = admission(1, 0, Duration.ZERO);
        a.enter("f").awaitTurn();
        Admission.Ticket g = a.enter("g");
        g.awaitTurn();
        g.close();
        assertEquals("queue_full", assertThrows(ThawException.class, () -> a.enter("f")).details().path("limit").asText());
    }

    @Test
    void aClosedTicketFreesItsSlotForTheNext() {
        Admission a = admission(1, 0, Duration.ZERO);
        for (int i = 0; i < 5; i++) {
            try (Admission.Ticket t = a.enter("f")) {
                t.awaitTurn();
            }
        }
    }
}
