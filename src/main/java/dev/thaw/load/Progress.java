package dev.thaw.load;

import java.io.PrintStream;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The {@link LoadRunner}'s progress line: every period, from a daemon thread of its own, the
 * offered and achieved rates over the period, what is in flight, the open connections, the
 * counts so far and the latency and lag percentiles; and a last line once the run has ended. It
 * reads only the {@link Accounting}'s running totals and the connection count, so the loop thread
 * never waits for it, and it recycles its interval histograms so that a line does not allocate
 * half a megabyte.
 */
final class Progress {
    private final PrintStream out;
    private final long periodNanos;
    private final LoadClock clock;
    private final Schedule schedule;
    private final Accounting accounting;
    private final Connections connections;
    private final long start;
    private final Histogram latencyTotal = new Histogram(Accounting.HIGHEST_MICROS, 3);
    private final Histogram lagTotal = new Histogram(Accounting.HIGHEST_MICROS, 3);
    private Histogram latencyInterval;
    private Histogram lagInterval;
    private Thread thread;

    /** @param start the schedule's zero on {@code clock} */
    Progress(PrintStream out, long periodNanos, LoadClock clock, Schedule schedule, Accounting accounting,
             Connections connections, long start) {
        this.out = out;
        this.periodNanos = periodNanos;
        this.clock = clock;
        this.schedule = schedule;
        this.accounting = accounting;
        this.connections = connections;
        this.start = start;
    }

    void start() {
        thread = Thread.ofPlatform().daemon().name("thaw-load-progress").start(this::loop);
    }

    /** Stops the thread and waits for it, so that its last line comes before the final one. */
    void stop() {
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The line for the end of the run, {@code sinceStart} ns after the schedule's zero. */
    void printFinal(long sinceStart) {
        out.println(line(sinceStart, -1, -1));
    }

    private void loop() {
        long lastTime = start;
        long lastDone = 0;
        while (!Thread.currentThread().isInterrupted()) {
            long sleep = lastTime + periodNanos - clock.nanoTime();
            if (sleep > 0) {
                try {
                    clock.sleepNanos(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
            long now = clock.nanoTime();
            long doneNow = accounting.answered();
            double secs = (now - lastTime) / 1e9;
            long offeredNow = schedule.countBefore(now - start) - schedule.countBefore(lastTime - start);
            out.println(line(now - start, offeredNow / secs, (doneNow - lastDone) / secs));
            lastTime = now;
            lastDone = doneNow;
        }
    }

    /** Rates below zero: the run is done. */
    private synchronized String line(long sinceStart, double offered, double achieved) {
        Accounting a = accounting;
        latencyInterval = a.latency.getIntervalHistogram(latencyInterval);
        lagInterval = a.lag.getIntervalHistogram(lagInterval);
        latencyTotal.add(latencyInterval);
        lagTotal.add(lagInterval);
        long inFlight = a.sent.sum() - a.answered() - a.failed.sum();
        String rates = offered < 0
                ? "done                                   "
                : String.format(Locale.ROOT, "offered %7.0f/s achieved %7.0f/s", offered, achieved);
        return String.format(Locale.ROOT,
                "[%6.1fs] %s  in flight %d  conns %d  ok %d  429 %d  errors %d"
                        + "  latency p50 %.2f p99 %.2f ms  lag p99 %.3f ms (last period %.3f)",
                Math.max(0, sinceStart) / 1e9, rates, Math.max(0, inFlight), connections.count(),
                a.ok.sum(), a.rejected.sum(), a.httpErrors.sum() + a.failed.sum(),
                latencyTotal.getValueAtPercentile(50) / 1000.0, latencyTotal.getValueAtPercentile(99) / 1000.0,
                lagTotal.getValueAtPercentile(99) / 1000.0, lagInterval.getValueAtPercentile(99) / 1000.0);
    }
}
