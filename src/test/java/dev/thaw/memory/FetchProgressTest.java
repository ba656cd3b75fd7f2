package dev.thaw.memory;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The range set a fetch and an early restore share: presence, demand order, waiting, failure. */
class FetchProgressTest {
    static final int PAGE = 4096;

    @Test
    void presentPagesAreNotWaitedFor() throws IOException {
        FetchProgress p = new FetchProgress(10 * PAGE, Duration.ofSeconds(30));
        p.markPresent(2 * PAGE, 3 * PAGE);
        p.await(2 * PAGE, 3 * PAGE);
        p.await(4 * PAGE + 100, 10);
        assertEquals(3, p.presentPages());
        assertEquals(-1, p.nextDemanded());
        assertFalse(p.complete());
        p.markPresent(0, 10 * PAGE);
        assertTrue(p.complete());
    }

    @Test
    void demandsComeInTheOrderAskedAndGoWhenThePagesArrive() {
        FetchProgress p = new FetchProgress(10 * PAGE, Duration.ofSeconds(30));
        p.markPresent(7 * PAGE, PAGE);
        p.demand(6 * PAGE, 3 * PAGE); // 6, (7 present), 8
        p.demand(PAGE, PAGE);
        assertEquals(6, p.nextDemanded());
        p.markPresent(6 * PAGE, PAGE);
        assertEquals(8, p.nextDemanded());
        p.markPresent(8 * PAGE, PAGE);
        assertEquals(1, p.nextDemanded());
        p.markPresent(0, 2 * PAGE);
        assertEquals(-1, p.nextDemanded());
    }

    @Test
    void aWaiterIsReleasedWhenItsPageArrives() throws Exception {
        FetchProgress p = new FetchProgress(10 * PAGE, Duration.ofSeconds(30));
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                p.await(5 * PAGE, PAGE);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        awaitDemand(p, 5);
        assertFalse(reader.isDone(), "page 5 has not arrived");
        p.markPresent(5 * PAGE, PAGE);
        reader.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aFailedFetchFailsWaitersAndLaterReaders() throws Exception {
        FetchProgress p = new FetchProgress(10 * PAGE, Duration.ofSeconds(30));
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                p.await(3 * PAGE, PAGE);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        awaitDemand(p, 3);
        p.fail(new IOException("peer gone"));
        Exception e = assertThrows(Exception.class, () -> reader.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("peer gone"), e.toString());
        p.markPresent(0, PAGE);
        assertThrows(IOException.class, () -> p.await(0, PAGE), "failed for good");
    }

    @Test
    void aPageThatNeverComesTimesOut() {
        FetchProgress p = new FetchProgress(10 * PAGE, Duration.ofMillis(1));
        IOException e = assertThrows(IOException.class, () -> p.await(9 * PAGE, PAGE));
        assertTrue(e.getMessage().contains("page 9"), e.getMessage());
    }

    /** Spins (no sleep) until the other thread has registered its wait for {@code page}. */
    static void awaitDemand(FetchProgress p, long page) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (p.nextDemanded() != page) {
            if (System.nanoTime() > deadline) fail("nobody waited for page " + page);
            Thread.onSpinWait();
        }
    }
}
