package dev.thaw.load;

import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Where the {@link LoadRunner} records how each invocation ended: in {@link Results}, the record
 * per invocation that the report is made from, and in running totals (counters, and latency and
 * lag histograms) that the {@link Progress} line reads from its own thread while the run goes on.
 * Latency and lag run from an invocation's scheduled time, so a client that falls behind shows
 * as lag instead of hiding it (no coordinated omission). Recording allocates nothing and takes
 * no lock: {@link LongAdder} and HdrHistogram's {@link Recorder} are written by the loop thread
 * and read by others as they are.
 */
final class Accounting {
    /** The histograms' range, an hour in µs; a longer time is recorded as an hour. */
    static final long HIGHEST_MICROS = 3_600_000_000L;

    final Results results;
    private final long[] scheduledAt;
    /** Latency of 2xx answers, in µs. */
    final Recorder latency = new Recorder(HIGHEST_MICROS, 3);
    /** Schedule lag (sent − scheduled) of every sent invocation, in µs. */
    final Recorder lag = new Recorder(HIGHEST_MICROS, 3);
    final LongAdder sent = new LongAdder();
    final LongAdder ok = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder httpErrors = new LongAdder();
    final LongAdder failed = new LongAdder();

    Accounting(Schedule schedule, boolean keepInstances) {
        this.results = new Results(schedule.size(), keepInstances);
        this.scheduledAt = schedule.at;
    }

    /** Invocation {@code i} went out {@code sinceStart} ns after the schedule's zero. */
    void sent(int i, long sinceStart) {
        results.sentAt(i, sinceStart);
        sent.increment();
        lag.recordValue(micros(sinceStart - scheduledAt[i]));
    }

    /** Invocation {@code i} was answered with {@code reply} (its body scanned) {@code sinceStart} ns after the zero. */
    void answered(int i, Reply reply, long sinceStart) {
        results.answered(i, reply, sinceStart);
        if (reply.status >= 200 && reply.status < 300) {
            ok.increment();
            latency.recordValue(micros(sinceStart - scheduledAt[i]));
        } else if (reply.status == 429) {
            rejected.increment();
        } else {
            httpErrors.increment();
        }
    }

    void failed(int i, Failure why, String message, long sinceStart) {
        results.failed(i, why, message, sinceStart);
        failed.increment();
    }

    void notSent(int i) {
        results.notSent(i);
    }

    /** Invocations answered so far, any status; safe to read from any thread. */
    long answered() {
        return ok.sum() + rejected.sum() + httpErrors.sum();
    }

    private static long micros(long nanos) {
        return Math.min(HIGHEST_MICROS, Math.max(0, nanos) / 1000);
    }
}
