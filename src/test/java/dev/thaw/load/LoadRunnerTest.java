package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.common.Json;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

class LoadRunnerTest {

    /** {@code n} invocations of one spin-mapped function, {@code gapMicros} apart. */
    static Schedule schedule(int n, long gapMicros, int functions) {
        long[] at = new long[n];
        int[] fn = new int[n];
        int[] dur = new int[n];
        int[] mem = new int[n];
        for (int i = 0; i < n; i++) {
            at[i] = i * gapMicros * 1000;
            fn[i] = i % functions;
            dur[i] = i;
            mem[i] = 1;
        }
        var fns = new java.util.ArrayList<LoadFunction>();
        for (int f = 0; f < functions; f++) {
            fns.add(new LoadFunction("f" + f, "spin", null, 1));
        }
        return new Schedule(fns, at, fn, dur, mem, n * gapMicros * 1000);
    }

    static LoadRunner.Options options(int connections, Duration timeout) {
        return new LoadRunner.Options(connections, timeout, Duration.ofSeconds(2), 0, 100_000,
                Duration.ofMillis(20), Duration.ZERO, true, 2);
    }

    record Run(Report report, Results results, LoadRunner runner) {
    }

    static Run run(Schedule s, int port, LoadRunner.Options o) throws IOException {
        var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        var runner = new LoadRunner(s, new RequestTemplates(s, "127.0.0.1:" + port, "", "faasnap"), address, o, null);
        Results r = runner.run();
        Report report = new Report(s, r, runner.elapsedNanos());
        assertTrue(report.balanced());
        assertEquals(s.size(), r.finished());
        return new Run(report, r, runner);
    }

    @Test
    void everyInvocationIsAnsweredByTheLoopbackServer() throws IOException {
        try (LoopbackServer server = LoopbackServer.start(0, 1)) {
            Schedule s = schedule(2000, 100, 3); // 10k/s for 0.2 s
            Run run = run(s, server.port(), options(64, Duration.ofSeconds(5)));
            assertEquals(2000, run.report().total.ok);
            assertEquals(2000, server.requests());
            assertEquals(2000, run.report().total.latency.getTotalCount());
            assertEquals(3, run.report().perFunction.size());
            var table = new java.io.ByteArrayOutputStream();
            run.report().printTable(new java.io.PrintStream(table, true, java.nio.charset.StandardCharsets.UTF_8));
            assertTrue(table.toString(java.nio.charset.StandardCharsets.UTF_8).contains("percentiles: nearest rank ("), "the table defines its percentiles");
            for (int i = 0; i < s.size(); i++) {
                assertTrue(run.results().sent[i] >= s.at[i], "never sent early");
                assertTrue(run.results().done[i] >= run.results().sent[i]);
            }
        }
    }

    @Test
    void sendsTheRequestTheScheduleSays() throws IOException {
        String ok = ScriptedServer.json(200, "{\"result\":{},\"instance\":\"vm-1\",\"mode\":\"reap\",\"cold_start\":\"reap\",\"timing_ms\":{}}");
        try (ScriptedServer server = new ScriptedServer((n, body) -> ok)) {
            Schedule s = schedule(5, 1000, 1);
            Run run = run(s, server.port(), options(4, Duration.ofSeconds(5)));
            assertEquals(List.of("/functions/spin/invoke?mode=faasnap"), server.paths.stream().distinct().toList());
            assertTrue(server.bodies.contains("{\"duration_ms\":3,\"memory_mib\":1}"));
            assertEquals(5, run.report().total.coldStartCount());
            assertEquals(1.0, run.report().total.coldStartFraction());
            assertEquals("vm-1", run.results().instance[0]);
        }
    }

    @Test
    void rejectionsErrorsAndHangUpsAreEachCountedOnce() throws IOException {
        // Request n: 429 if n % 5 == 1, 500 if n % 5 == 2, hang up if n % 5 == 3, else 200.
        String ok = ScriptedServer.json(200, "{\"result\":{}}");
        String busy = ScriptedServer.json(429, "{\"error\":{\"code\":\"overloaded\",\"message\":\"later\"}}", "Retry-After: 2");
        String boom = ScriptedServer.json(500, "{\"error\":{\"code\":\"internal\",\"message\":\"x\"}}");
        try (ScriptedServer server = new ScriptedServer((n, body) -> switch (n % 5) {
            case 1 -> busy;
            case 2 -> boom;
            case 3 -> ScriptedServer.HANG_UP;
            default -> ok;
        })) {
            Schedule s = schedule(200, 500, 2);
            Run run = run(s, server.port(), options(1, Duration.ofSeconds(5))); // one connection: strict order
            Report.Stats t = run.report().total;
            assertEquals(200, t.scheduled);
            assertEquals(200, t.sent);
            // A hang-up on a reused socket before any byte is retried once on a fresh one, which
            // takes the next scripted answer: so the counts depend on the script, but they balance.
            assertEquals(t.scheduled, t.ok + t.rejected + t.httpErrors + t.failed + t.notSent);
            assertTrue(t.rejected > 0 && t.httpErrors > 0, t.byStatus.toString());
            assertEquals(Long.valueOf(t.rejected), t.byStatus.get(429));
            assertEquals(Long.valueOf(t.rejected), t.errorCodes.get("overloaded"));
            long retryAfter = Arrays.stream(run.results().retryAfter).filter(v -> v == 2).count();
            assertEquals(t.rejected, retryAfter);
            assertEquals(server.requests(), t.ok + t.rejected + t.httpErrors + countHangUps(server.requests()));
        }
    }

    private static long countHangUps(int requests) {
        long n = 0;
        for (int k = 0; k < requests; k++) {
            if (k % 5 == 3) {
                n++;
            }
        }
        return n;
    }

    @Test
    void connectionRefusedIsAFailureWithItsReason() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Schedule s = schedule(50, 200, 1);
        Run run = run(s, port, options(8, Duration.ofSeconds(2)));
        assertEquals(50, run.report().total.failed);
        assertEquals(Long.valueOf(50), run.report().total.failures.get("connection_refused"));
        assertEquals(0, run.report().total.ok);
    }

    @Test
    void aHangUpOnAFreshConnectionIsAFailureNotARetry() throws IOException {
        try (ScriptedServer server = new ScriptedServer((n, body) -> ScriptedServer.HANG_UP)) {
            Schedule s = schedule(20, 1000, 1);
            Run run = run(s, server.port(), options(4, Duration.ofSeconds(2)));
            assertEquals(20, run.report().total.failed);
            assertEquals(Long.valueOf(20), run.report().total.failures.get("connection_closed"));
            assertEquals(20, server.requests(), "each invocation was sent exactly once");
        }
    }

    @Test
    void staleKeepAliveSocketsAreRetriedOnAFreshConnection() throws IOException {
        // Answers, then closes every connection after its answer without saying so.
        String ok = ScriptedServer.json(200, "{}");
        try (ScriptedServer server = new ScriptedServer((n, body) -> n % 2 == 0 ? ok : ScriptedServer.HANG_UP)) {
            Schedule s = schedule(10, 20_000, 1); // 20 ms apart: the close is seen in between, or on reuse
            Run run = run(s, server.port(), options(1, Duration.ofSeconds(2)));
            assertEquals(10, run.report().total.ok, run.report().total.failures.toString());
        }
    }

    // ------------------------------------------------ on a manual clock: the test moves time

    /** Options for a run on the manual clock: no lead-in, no progress thread, connections opened on demand. */
    static LoadRunner.Options clocked(int connections, Duration timeout) {
        return new LoadRunner.Options(connections, timeout, Duration.ofSeconds(2), 0, 100_000,
                Duration.ZERO, Duration.ZERO, true, 0);
    }

    /** The invocation a spin request is for: {@link #schedule} gives invocation i a duration of i ms. */
    static int invocation(String body) {
        return Json.parse(body).path("duration_ms").asInt();
    }

    /**
     * A server script that answers 200, holding the answer to the chosen invocations until the
     * test releases them, and reports each request as it arrives.
     */
    static final class Holds implements ScriptedServer.Script {
        private final IntPredicate held;
        private final BlockingQueue<Integer> arrived = new LinkedBlockingQueue<>();
        private final Map<Integer, CountDownLatch> gates = new ConcurrentHashMap<>();

        Holds(IntPredicate held) {
            this.held = held;
        }

        @Override
        public String answer(int n, String body) {
            int i = invocation(body);
            arrived.add(i);
            if (held.test(i)) {
                try {
                    gate(i).await(30, TimeUnit.SECONDS); // bounded: a failed test must not leave the server stuck
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return ScriptedServer.json(200, "{}");
        }

        private CountDownLatch gate(int i) {
            return gates.computeIfAbsent(i, k -> new CountDownLatch(1));
        }

        void release(int i) {
            gate(i).countDown();
        }

        /** The invocation of the next request the server reads. */
        int nextArrival() throws InterruptedException {
            Integer i = arrived.poll(20, TimeUnit.SECONDS);
            assertNotNull(i, "no request arrived");
            return i;
        }

        @Override
        public String toString() {
            return "arrived " + arrived;
        }
    }

    /** A run on a {@link ManualClock}, on its own thread, while the test moves the clock. */
    static final class ClockedRun implements AutoCloseable {
        final ManualClock clock = new ManualClock();
        final Schedule schedule;
        final LoadRunner runner;
        private final CompletableFuture<Results> results = new CompletableFuture<>();

        ClockedRun(Schedule schedule, int port, LoadRunner.Options options) {
            this.schedule = schedule;
            var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            runner = new LoadRunner(schedule, new RequestTemplates(schedule, "127.0.0.1:" + port, "", "faasnap"), address,
                    options, null, clock);
            Thread.ofPlatform().name("load-runner").start(() -> {
                try {
                    results.complete(runner.run());
                } catch (Throwable t) {
                    results.completeExceptionally(t);
                }
            });
        }

        /** Invocations {@code from} to {@code to - 1} fall due one at a time, each once the runner has done all it can before. */
        void dueInTurn(int from, int to) {
            for (int i = from; i < to; i++) {
                clock.awaitIdle();
                clock.advanceTo(schedule.at[i]);
            }
        }

        Run finish() throws Exception {
            Results r = results.get(20, TimeUnit.SECONDS);
            Report report = new Report(schedule, r, runner.elapsedNanos());
            assertTrue(report.balanced());
            assertEquals(schedule.size(), r.finished());
            return new Run(report, r, runner);
        }

        @Override
        public void close() {
            if (!results.isDone()) {
                runner.abort(); // a failed test: end the run rather than leave it waiting for time that never comes
            }
        }
    }

    @Test
    void aHungAnswerTimesOutAtItsDeadlineAndTheOthersDoNot() throws Exception {
        Holds holds = new Holds(i -> i == 0);
        try (ScriptedServer server = new ScriptedServer(holds);
             ClockedRun run = new ClockedRun(schedule(3, 1000, 1), server.port(), clocked(4, Duration.ofMillis(300)))) {
            run.dueInTurn(1, 3);
            run.clock.awaitIdle(() -> run.runner.answered() == 2, "invocations 1 and 2 answered");
            long deadline = Duration.ofMillis(300).toNanos(); // invocation 0 went out at 0
            run.clock.advanceTo(deadline);
            run.clock.awaitIdle(); // still running: at its deadline invocation 0 is not late yet
            // Deadlines are checked every TIMEOUT_CHECK_NANOS; the last check was at 300 ms.
            run.clock.advanceTo(deadline + LoadRunner.TIMEOUT_CHECK_NANOS);
            Run r = run.finish();
            assertEquals(Long.valueOf(1), r.report().total.failures.get("timeout"));
            assertEquals(2, r.report().total.ok);
            assertEquals(deadline + LoadRunner.TIMEOUT_CHECK_NANOS, r.results().done[0], "failed at the first check past its deadline");
        } finally {
            holds.release(0);
        }
    }

    @Test
    void openLoopSendsEveryInvocationOnTimeWhileAnEarlierOneHangs() throws Exception {
        Holds holds = new Holds(i -> i == 0);
        Schedule s = schedule(20, 5_000, 1);
        try (ScriptedServer server = new ScriptedServer(holds);
             // A connection for each: the test moves time faster than the server answers, and only
             // the hung invocation, not the connection limit, is to stand in the way.
             ClockedRun run = new ClockedRun(s, server.port(), clocked(s.size(), Duration.ofSeconds(5)))) {
            run.dueInTurn(1, 20);
            run.clock.awaitIdle(() -> run.runner.answered() == 19, "the 19 others answered");
            run.clock.advanceTo(Duration.ofMillis(300));
            holds.release(0);
            Run r = run.finish();
            assertEquals(20, r.report().total.ok);
            for (int i = 0; i < s.size(); i++) {
                assertEquals(s.at[i], r.results().sent[i], "invocation " + i + " went out at its scheduled time");
            }
            assertEquals(0, r.report().total.lag.getMaxValue());
            assertEquals(300_000_000L, r.results().done[0] - s.at[0], "latency runs from the scheduled time");
        } finally {
            holds.release(0);
        }
    }

    @Test
    void theConnectionLimitTurnsIntoScheduleLagNotLoss() throws Exception {
        // One connection, an invocation every 1 ms, 20 ms per answer: each waits for the one before it.
        Holds holds = new Holds(i -> true);
        Schedule s = schedule(20, 1_000, 1);
        try (ScriptedServer server = new ScriptedServer(holds);
             ClockedRun run = new ClockedRun(s, server.port(), clocked(1, Duration.ofSeconds(5)))) {
            run.dueInTurn(1, 20); // invocation 0 is out; 1 to 19 wait in the backlog
            for (int k = 0; k < s.size(); k++) {
                assertEquals(k, holds.nextArrival(), "in order, one at a time");
                run.clock.awaitIdle();
                run.clock.advanceTo(Duration.ofMillis(20L * (k + 1)));
                holds.release(k);
            }
            Run r = run.finish();
            assertEquals(20, r.report().total.ok);
            long ms = 1_000_000;
            for (int k = 0; k < s.size(); k++) {
                assertEquals(20 * k * ms, r.results().sent[k], "invocation " + k + " went out when the one before was answered");
                assertEquals(20 * (k + 1) * ms, r.results().done[k]);
            }
            // The lag of invocation k is 20k − k ms; the last one waited 361 ms.
            assertEquals(361_000, r.report().total.lag.getMaxValue(), 361, "the backlog shows as lag");
        } finally {
            for (int k = 0; k < s.size(); k++) {
                holds.release(k);
            }
        }
    }

    @Test
    void abortEndsUnsentAndInFlightInvocationsExactlyOnce() throws Exception {
        Holds holds = new Holds(i -> true);
        Schedule s = schedule(100, 20_000, 1);
        try (ScriptedServer server = new ScriptedServer(holds);
             ClockedRun run = new ClockedRun(s, server.port(), clocked(4, Duration.ofSeconds(30)))) {
            run.dueInTurn(1, 4); // four out, one per connection, none answered
            for (int k = 0; k < 4; k++) {
                holds.nextArrival();
            }
            run.clock.awaitIdle();
            run.runner.abort();
            Report.Stats t = run.finish().report().total;
            assertEquals(96, t.notSent);
            assertEquals(4, t.failed);
            assertEquals(Long.valueOf(4), t.failures.get("aborted"));
            assertEquals(0, t.ok);
        } finally {
            for (int k = 0; k < s.size(); k++) {
                holds.release(k);
            }
        }
    }
}
