package dev.thaw.load;

import dev.thaw.sys.TimerSlack;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Plays a {@link Schedule} against an HTTP target, open loop.
 *
 * <p>Design: one platform thread is both the clock and the network. It walks the
 * pre-computed schedule and, for every invocation that is due, writes the request on an idle
 * HTTP/1.1 keep-alive connection (or opens a new one, non-blocking); between due times it
 * reads and parses answers from a {@link java.nio.channels.Selector} over all its connections. One request is
 * in flight per connection (no pipelining: a slow invocation must not hold up the next), so
 * concurrency comes from connections, up to a limit; beyond it an invocation waits in a
 * backlog until a connection frees up, and the wait shows as schedule lag.
 *
 * <p>Waiting is where the cost is. Measured on this kind of machine (2 cores, paravirtualised),
 * a context switch costs more than a whole request, so the loop sleeps as rarely as it can:
 * when the next due time is far (more than {@value #EPOLL_MARGIN_MILLIS} ms), it blocks in
 * {@code epoll_wait} so that answers are read — and timed — the moment they arrive; when it
 * is near, it parks until the due time but for at most one tick (timer slack lowered to 1 ns,
 * see {@link TimerSlack}), then polls the sockets without blocking and sends everything due
 * as a batch. At high rates the loop therefore wakes once per tick, and an answer's
 * completion time is taken at the first poll after it arrived (at most a tick late). Two
 * earlier designs were measured and dropped: a virtual thread per connection (park, unpark
 * and poller round trips per request) and a separate scheduler thread handing invocations
 * to an I/O thread (two threads waking per batch instead of one).
 *
 * <p>Open loop and honest: a request goes out at its time whether or not earlier ones were
 * answered, latency runs from the <em>scheduled</em> time (no coordinated omission), and the
 * schedule lag (sent − scheduled) makes a saturated client visible. Every invocation ends in
 * {@link Results} exactly once; deadlines bound every exchange, so a run always ends.
 *
 * <p>All time is read from, and all waiting done through, a {@link LoadClock}: the system's in a
 * real run, a manual one in tests that must control when time moves.
 *
 * <p>This class is the loop and the life of an invocation (due, sent, answered, failed, retried,
 * timed out); the sockets are {@link Connections} of {@link Connection}s, the outcomes are
 * recorded in {@link Accounting}, and {@link Progress} prints the progress line.
 */
final class LoadRunner {
    /**
     * @param maxConnections  connections at most
     * @param timeout         per-invocation limit from sending to the complete answer
     * @param connectTimeout  limit for opening a connection
     * @param spinNanos       busy-wait this long before a due time instead of parking (costs CPU)
     * @param tickNanos       with invocations due soon, the loop wakes at most once per tick
     * @param leadIn          time between starting and the first scheduled instant
     * @param progressEvery   period of the progress line (zero: none)
     * @param keepInstances   record each invocation's instance (for the CSV)
     * @param preconnect      connections opened before the first invocation is due; negative: as many
     *                        as invocations fall in the schedule's busiest
     *                        {@value Connections#PRECONNECT_WINDOW_MILLIS} ms (at least 8)
     */
    record Options(int maxConnections, Duration timeout, Duration connectTimeout, long spinNanos, long tickNanos,
                   Duration leadIn, Duration progressEvery, boolean keepInstances, int preconnect) {
        static Options defaults() {
            return new Options(512, Duration.ofSeconds(120), Duration.ofSeconds(5), 0, 500_000,
                    Duration.ofMillis(200), Duration.ofSeconds(5), false, -1);
        }
    }

    /** Deadlines are checked this often, so a late invocation fails up to this much after its deadline. */
    static final long TIMEOUT_CHECK_NANOS = 10_000_000;
    private static final long EPOLL_MARGIN_MILLIS = 2;
    private static final int NONE = Connection.NONE;

    private final Schedule schedule;
    private final RequestTemplates requests;
    private final Options options;
    private final PrintStream progressOut;
    private final LoadClock clock;
    private final Accounting accounting;
    private final Connections connections;
    /** {@link #ready}, bound once: a method reference made at each select would be an allocation per tick. */
    private final Consumer<SelectionKey> onReady = this::ready;

    // Owned by the loop thread.
    private final IntRing backlog = new IntRing();
    private final Reply reply = new Reply();
    private final RequestTemplates.Buffer request;
    private int inFlight;
    private long nextTimeoutCheck;

    private volatile Thread loopThread;
    private volatile boolean aborted;
    private long start;
    private long end;

    LoadRunner(Schedule schedule, RequestTemplates requests, InetSocketAddress address, Options options,
               PrintStream progressOut) {
        this(schedule, requests, address, options, progressOut, LoadClock.SYSTEM);
    }

    LoadRunner(Schedule schedule, RequestTemplates requests, InetSocketAddress address, Options options,
               PrintStream progressOut, LoadClock clock) {
        if (options.maxConnections() < 1) {
            throw new IllegalArgumentException("need at least one connection");
        }
        this.schedule = schedule;
        this.requests = requests;
        this.options = options;
        this.progressOut = progressOut;
        this.accounting = new Accounting(schedule, options.keepInstances());
        this.connections = new Connections(address, options.maxConnections(), options.connectTimeout().toNanos());
        this.request = requests.newBuffer();
        this.clock = clock;
    }

    /** Stops sending; unsent invocations end as NOT_SENT, in-flight ones as aborted failures. */
    void abort() {
        aborted = true;
        Thread t = loopThread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        connections.wakeup();
    }

    /** Nanoseconds from the schedule's zero to the end of the last invocation (valid after {@link #run()}). */
    long elapsedNanos() {
        return end - start;
    }

    /** Invocations answered so far, any status; safe to read from any thread. */
    long answered() {
        return accounting.answered();
    }

    /** Runs the whole schedule on the calling thread and returns when every invocation has ended. */
    Results run() throws IOException {
        connections.start();
        loopThread = Thread.currentThread();
        TimerSlack.minimise();
        connections.preconnect(options.preconnect(), schedule, clock);
        start = clock.nanoTime() + options.leadIn().toNanos();
        Progress progress = progressOut == null || options.progressEvery().toNanos() <= 0 ? null
                : new Progress(progressOut, options.progressEvery().toNanos(), clock, schedule, accounting, connections, start);
        if (progress != null) {
            progress.start();
        }
        try {
            loop();
        } finally {
            end = Math.max(clock.nanoTime(), start);
            connections.closeAll();
            if (progress != null) {
                progress.stop();
            }
        }
        Results results = accounting.results;
        if (results.finished() != results.size()) {
            throw new IllegalStateException(results.size() - results.finished() + " invocations never ended");
        }
        if (progress != null) {
            progress.printFinal(end - start);
        }
        return results;
    }

    private void loop() throws IOException {
        int next = 0;
        while (next >= 0) {
            next = step(next);
        }
    }

    /**
     * One turn of the loop: send what is due, read what has arrived, then wait. Returns the
     * next invocation to send, or -1 when every invocation has ended. (A method per turn, not
     * one long loop, so that the JIT compiles it like any hot method instead of relying on
     * on-stack replacement in each new run.)
     */
    private int step(int next) throws IOException {
        final long[] at = schedule.at;
        final int n = at.length;
        if (aborted) {
            abortAll(next);
            return -1;
        }
        long now = clock.nanoTime();
        while (next < n && start + at[next] <= now) {
            dispatch(next++);
        }
        connections.selector().selectNow(onReady);
        now = clock.nanoTime();
        if (now >= nextTimeoutCheck) {
            nextTimeoutCheck = now + TIMEOUT_CHECK_NANOS;
            expire(now);
        }
        if (next >= n && inFlight == 0 && backlog.isEmpty()) {
            return -1;
        }
        long wait = next < n ? start + at[next] - now : Long.MAX_VALUE;
        if (wait <= 0) {
            return next;
        }
        long waitMillis = wait / 1_000_000;
        if (waitMillis > EPOLL_MARGIN_MILLIS) {
            // Far from the next send: block on the sockets, answers are timed as they come.
            // (epoll_wait counts whole milliseconds; wake a bit early and finish below.)
            clock.select(connections.selector(), onReady, Math.min(waitMillis - 1, TIMEOUT_CHECK_NANOS / 1_000_000));
        } else if (wait > options.spinNanos()) {
            clock.parkNanos(Math.min(wait - options.spinNanos(), options.tickNanos()));
        } else {
            long due = start + at[next];
            while (clock.nanoTime() < due && !aborted) {
                clock.onSpinWait();
            }
        }
        return next;
    }

    private void abortAll(int next) {
        for (int k = next; k < schedule.size(); k++) {
            accounting.notSent(k);
        }
        while (!backlog.isEmpty()) {
            accounting.notSent(backlog.poll());
        }
        for (Connection c : new ArrayList<>(connections.open())) {
            if (c.invocation != NONE) {
                fail(c, new IOException("run aborted"), false);
            }
        }
    }

    private void dispatch(int i) {
        Connection c = connections.takeIdle();
        if (c == null) {
            if (connections.full()) {
                backlog.add(i);
                return;
            }
            c = new Connection();
        }
        send(c, i, true);
    }

    /** Starts invocation {@code i} on {@code c}, opening the connection if it is new. */
    private void send(Connection c, int i, boolean firstAttempt) {
        long now = clock.nanoTime();
        c.invocation = i;
        c.received = 0;
        c.inLen = 0;
        inFlight++;
        if (firstAttempt) {
            c.retried = false;
            accounting.sent(i, now - start);
            c.deadline = now + options.timeout().toNanos();
        }
        requests.render(i, request);
        c.setRequest(request);
        if (c.channel == null) {
            try {
                connections.connect(c, now);
            } catch (IOException e) {
                fail(c, e, true);
                return;
            }
            if (!c.connected) {
                return; // the request goes out when the connect completes
            }
        }
        write(c);
    }

    private void write(Connection c) {
        try {
            c.write();
        } catch (IOException e) {
            fail(c, e, false);
        }
    }

    private void ready(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        Connection c = (Connection) key.attachment();
        try {
            if (key.isConnectable()) {
                if (!c.finishConnect()) {
                    return;
                }
                if (c.invocation != NONE) {
                    write(c);
                }
                return;
            }
            if (key.isWritable()) {
                write(c);
                if (!key.isValid()) {
                    return;
                }
            }
            if (key.isReadable()) {
                read(c);
            }
        } catch (IOException e) {
            fail(c, e, !c.connected);
        }
    }

    private void read(Connection c) throws IOException {
        boolean eof = c.read();
        if (c.invocation == NONE) {
            connections.close(c); // an idle connection closed by the server (or talking out of turn)
            return;
        }
        int length = ResponseParser.parse(c.in, c.inLen, eof, reply.reset());
        if (length < 0) {
            return;
        }
        answered(c);
    }

    private void answered(Connection c) {
        long now = clock.nanoTime();
        int i = c.invocation;
        c.invocation = NONE;
        inFlight--;
        reply.scanBody();
        accounting.answered(i, reply, now - start);
        c.exchanges++;
        if (reply.close) {
            connections.close(c);
        } else {
            release(c);
        }
    }

    /** A free connection takes the oldest waiting invocation, or rests on the idle stack. */
    private void release(Connection c) {
        if (!backlog.isEmpty() && !aborted) {
            send(c, backlog.poll(), true);
        } else {
            connections.putIdle(c);
        }
    }

    /** The exchange on {@code c} failed: retry once if a stale keep-alive socket is to blame, else record it. */
    private void fail(Connection c, IOException e, boolean connecting) {
        int i = c.invocation;
        boolean stale = !connecting && c.exchanges > 0 && c.received == 0;
        boolean retried = c.retried;
        long deadline = c.deadline;
        connections.close(c);
        if (i == NONE) {
            return;
        }
        c.invocation = NONE;
        inFlight--;
        long now = clock.nanoTime();
        if (stale && !retried && !aborted && now < deadline && !(e instanceof SocketTimeoutException)) {
            // The server closed this idle socket as we reused it; the request never reached it.
            Connection fresh = new Connection();
            fresh.retried = true;
            fresh.deadline = deadline;
            send(fresh, i, false);
            return;
        }
        accounting.failed(i, Failure.of(e, connecting, aborted), String.valueOf(e.getMessage()), now - start);
        if (!backlog.isEmpty() && !aborted && !connections.full()) {
            dispatch(backlog.poll());
        }
    }

    private void expire(long now) {
        List<Connection> open = connections.open();
        for (int k = open.size() - 1; k >= 0 && k < open.size(); k--) {
            Connection c = open.get(k);
            if (c.invocation == NONE) {
                continue;
            }
            if (!c.connected && now > c.connectDeadline) {
                fail(c, new SocketTimeoutException("connect timed out"), true);
            } else if (now > c.deadline) {
                fail(c, new SocketTimeoutException("no complete answer within " + options.timeout()), !c.connected);
            }
        }
    }
}
