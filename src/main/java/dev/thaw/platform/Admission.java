package dev.thaw.platform;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Admission control per function: what keeps a burst from turning into an unbounded queue or a
 * hang. At most {@code concurrency} invocations of a function run at once and at most
 * {@code queueDepth} more wait, each for at most {@code queueTimeout}. Beyond a limit the caller
 * gets a {@link ThawException} of kind {@code LIMIT} naming the limit, with a retry hint. (The
 * global limits on instances and guest memory are the {@link InstanceManager}'s.) One lock guards
 * all counters: every decision is a few integer comparisons, far below the cost of a restore.
 */
final class Admission {
    private final Limits limits;
    private final Metrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition slotFreed = lock.newCondition();
    private final Map<String, int[]> perFunction = new HashMap<>(); // {running, waiting}

    Admission(Limits limits, Metrics metrics) {
        this.limits = limits;
        this.metrics = metrics;
        metrics.gauge("thaw_queue_length", "Invocations waiting for a concurrency slot, by function", this::queueLengths);
    }

    Limits limits() {
        return limits;
    }

    /** A place in a function's line: either running or waiting to. */
    final class Ticket implements AutoCloseable {
        private final String function;
        private boolean running;
        private boolean closed;

        private Ticket(String function, boolean running) {
            this.function = function;
            this.running = running;
        }

        /** Blocks until this ticket may run; a 429 when the queue timeout passes first. */
        void awaitTurn() {
            lock.lock();
            try {
                long left = limits.queueTimeout().toNanos();
                int[] c = counters(function);
                while (!running) {
                    if (c[0] < limits.concurrency()) {
                        c[1]--;
                        c[0]++;
                        running = true;
                        return;
                    }
                    if (left <= 0) {
                        c[1]--;
                        closed = true;
                        throw reject("queue_timeout", function + " waited " + limits.queueTimeout().toSeconds()
                                + " s in its queue without a free concurrency slot", 1);
                    }
                    left = slotFreed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ThawException(ThawException.Kind.UNAVAILABLE, "interrupted", "interrupted while queued");
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                if (closed) return;
                closed = true;
                int[] c = counters(function);
                if (running) c[0]--;
                else c[1]--;
                slotFreed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Joins a function's line without blocking: runs at once if a concurrency slot is free,
     * otherwise takes a queue place; a 429 when the queue is full.
     */
    Ticket enter(String function) {
        lock.lock();
        try {
            int[] c = counters(function);
            if (c[0] < limits.concurrency() && c[1] == 0) {
                c[0]++;
                return new Ticket(function, true);
            }
            if (c[1] >= limits.queueDepth()) {
                throw reject("queue_full", function + " has " + c[0] + " invocations running (its concurrency limit) and "
                        + c[1] + " waiting (its queue limit)", 1);
            }
            c[1]++;
            return new Ticket(function, false);
        } finally {
            lock.unlock();
        }
    }

    private ThawException reject(String limit, String message, int retryAfterSeconds) {
        metrics.increment("thaw_rejections_total", "Invocations refused with 429, by the limit hit", Metrics.labels("reason", limit));
        return ThawException.limitExceeded(limit, message, retryAfterSeconds);
    }

    private int[] counters(String function) {
        return perFunction.computeIfAbsent(function, k -> new int[2]);
    }

    private Map<String, Long> queueLengths() {
        lock.lock();
        try {
            Map<String, Long> out = new TreeMap<>();
            perFunction.forEach((f, c) -> out.put(Metrics.labels("function", f), (long) c[1]));
            return out;
        } finally {
            lock.unlock();
        }
    }
}
