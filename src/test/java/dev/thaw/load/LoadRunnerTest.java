package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
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
    void slowAnswersTimeOut() throws IOException {
        try (ScriptedServer server = new ScriptedServer((n, body) -> {
            try {
                Thread.sleep(body.contains("\"duration_ms\":0,") ? 2000 : 0); // invocation 0 hangs
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ScriptedServer.json(200, "{}");
        })) {
            Schedule s = schedule(3, 1000, 1);
            Run run = run(s, server.port(), options(4, Duration.ofMillis(300)));
            assertEquals(Long.valueOf(1), run.report().total.failures.get("timeout"));
            assertEquals(2, run.report().total.ok);
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

    @Test
    void openLoopKeepsSendingWhileEarlierRequestsHang() throws IOException {
        // The first answer takes 300 ms; later ones must still go out on time on other connections.
        try (ScriptedServer server = new ScriptedServer((n, body) -> {
            if (body.contains("\"duration_ms\":0,")) { // invocation 0
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return ScriptedServer.json(200, "{}");
        })) {
            Schedule s = schedule(20, 5_000, 1);
            Run run = run(s, server.port(), options(16, Duration.ofSeconds(5)));
            assertEquals(20, run.report().total.ok);
            assertTrue(run.report().total.lag.getMaxValue() < 100_000, "lag " + run.report().total.lag.getMaxValue() + " us");
            assertTrue(run.results().done[0] - s.at[0] >= 300_000_000L);
        }
    }

    @Test
    void theConnectionLimitTurnsIntoScheduleLagNotLoss() throws IOException {
        try (ScriptedServer server = new ScriptedServer((n, body) -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ScriptedServer.json(200, "{}");
        })) {
            Schedule s = schedule(20, 1_000, 1); // 1 ms apart, 20 ms service, one connection
            Run run = run(s, server.port(), options(1, Duration.ofSeconds(5)));
            assertEquals(20, run.report().total.ok);
            assertTrue(run.report().total.lag.getMaxValue() > 100_000, "the backlog must show as lag");
        }
    }

    @Test
    void abortEndsUnsentAndInFlightInvocationsExactlyOnce() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, body) -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ScriptedServer.json(200, "{}");
        })) {
            Schedule s = schedule(100, 20_000, 1); // 2 s of schedule
            var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            var runner = new LoadRunner(s, new RequestTemplates(s, "x", "", null), address,
                    options(4, Duration.ofSeconds(30)), null);
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                }
                runner.abort();
            });
            Results r = runner.run();
            Report report = new Report(s, r, runner.elapsedNanos());
            assertTrue(report.balanced());
            Report.Stats t = report.total;
            assertTrue(t.notSent > 50, "not sent " + t.notSent);
            assertEquals(Long.valueOf(t.failed), t.failures.get("aborted"));
            assertEquals(100, t.notSent + t.failed + t.ok);
        }
    }
}
