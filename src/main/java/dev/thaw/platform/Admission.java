package dev.thaw.platform;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Admission control: what keeps a burst from turning into an unbounded queue, a hang, or an
 * out-of-memory host.
 *
 * <p>Two kinds of limit. Per function, at most {@code concurrency} invocations run at once and at
 * most {@code queueDepth} more wait, each for at most {@code queueTimeout}. Globally, the running
 * instances (busy or idle) may not exceed {@code maxInstances} nor, summed over their guest
 * memory sizes, {@code memoryBudgetMib}; the platform evicts idle instances to make room before
 * it gives up. Beyond a limit the caller gets a {@link ThawException} with status 429, a
 * {@code Retry-After} hint and the limit's name. One lock guards all counters: every decision is
 * a few integer comparisons, far below the cost of the restore it gates.
 */
final class Admission {
    private final Limits limits;
    private final Metrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition slotFreed = lock.newCondition();
    private final Map<String, int[]> perFunction = new HashMap<>(); // {running, waiting}
    private int instances;
    private long memoryMib;

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
                throw new ThawException(503, "interrupted", "interrupted while queued");
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

    /** Reserves room for one more instance of {@code memoryMib}; false when a global limit is in the way. */
    boolean reserveInstance(int memoryMib) {
        lock.lock();
        try {
            if (instances + 1 > limits.maxInstances() || this.memoryMib + memoryMib > limits.memoryBudgetMib()) return false;
            instances++;
            this.memoryMib += memoryMib;
            return true;
        } finally {
            lock.unlock();
        }
    }

    void releaseInstance(int memoryMib) {
        lock.lock();
        try {
            instances--;
            this.memoryMib -= memoryMib;
        } finally {
            lock.unlock();
        }
    }

    /** The 429 for a full instance or memory budget, after eviction could not make room. */
    ThawException budgetExhausted(int memoryMib) {
        lock.lock();
        try {
            boolean memory = this.memoryMib + memoryMib > limits.memoryBudgetMib();
            return memory
                    ? reject("memory", "guest memory budget exhausted: " + this.memoryMib + " of " + limits.memoryBudgetMib()
                    + " MiB in use, " + memoryMib + " MiB more needed", 2)
                    : reject("instances", "instance limit reached: " + instances + " of " + limits.maxInstances() + " running", 2);
        } finally {
            lock.unlock();
        }
    }

    private ThawException reject(String limit, String message, int retryAfterSeconds) {
        metrics.increment("thaw_rejections_total", "Invocations refused with 429, by the limit hit", Metrics.labels("reason", limit));
        ObjectNode details = Json.object().put("limit", limit).put("retry_after_s", retryAfterSeconds);
        return new ThawException(429, "limit_exceeded", message, details, null);
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
