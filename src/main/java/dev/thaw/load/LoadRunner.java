package dev.thaw.load;

import dev.thaw.sys.TimerSlack;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Plays a {@link Schedule} against an HTTP target, open loop.
 *
 * <p>Design: one platform thread is both the clock and the network. It walks the
 * pre-computed schedule and, for every invocation that is due, writes the request on an idle
 * HTTP/1.1 keep-alive connection (or opens a new one, non-blocking); between due times it
 * reads and parses answers from a {@link Selector} over all its connections. One request is
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
     *                        as invocations fall in the schedule's busiest {@value #PRECONNECT_WINDOW_MILLIS} ms
     */
    record Options(int maxConnections, Duration timeout, Duration connectTimeout, long spinNanos, long tickNanos,
                   Duration leadIn, Duration progressEvery, boolean keepInstances, int preconnect) {
        static Options defaults() {
            return new Options(512, Duration.ofSeconds(120), Duration.ofSeconds(5), 0, 500_000,
                    Duration.ofMillis(200), Duration.ofSeconds(5), false, -1);
        }
    }

    private static final int NONE = -1;
    private static final long HIGHEST_MICROS = 3_600_000_000L;
    /** Deadlines are checked this often, so a late invocation fails up to this much after its deadline. */
    static final long TIMEOUT_CHECK_NANOS = 10_000_000;
    private static final long EPOLL_MARGIN_MILLIS = 2;
    static final long PRECONNECT_WINDOW_MILLIS = 25;

    private final Schedule schedule;
    private final RequestTemplates requests;
    private final InetSocketAddress address;
    private final Options options;
    private final PrintStream progressOut;
    private final Results results;
    private final LoadClock clock;
    /** {@link #ready}, bound once: a method reference made at each select would be an allocation per tick. */
    private final Consumer<SelectionKey> onReady = this::ready;

    private final Recorder latency = new Recorder(HIGHEST_MICROS, 3);
    private final Recorder lag = new Recorder(HIGHEST_MICROS, 3);
    private final LongAdder sent = new LongAdder();
    private final LongAdder ok = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder httpErrors = new LongAdder();
    private final LongAdder failed = new LongAdder();

    // Owned by the loop thread.
    private Selector selector;
    private final ArrayDeque<Conn> idle = new ArrayDeque<>();
    private final List<Conn> conns = new ArrayList<>();
    private final IntRing backlog = new IntRing();
    private final Reply reply = new Reply();
    private final RequestTemplates.Buffer request;
    private int inFlight;
    private long nextTimeoutCheck;
    private volatile int connectionCount;

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
        this.address = address;
        this.options = options;
        this.progressOut = progressOut;
        this.results = new Results(schedule.size(), options.keepInstances());
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
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    /** Nanoseconds from the schedule's zero to the end of the last invocation (valid after {@link #run()}). */
    long elapsedNanos() {
        return end - start;
    }

    /** Runs the whole schedule on the calling thread and returns when every invocation has ended. */
    Results run() throws IOException {
        selector = Selector.open();
        loopThread = Thread.currentThread();
        TimerSlack.minimise();
        preconnect();
        start = clock.nanoTime() + options.leadIn().toNanos();
        Thread progress = startProgress();
        try {
            loop();
        } finally {
            end = Math.max(clock.nanoTime(), start);
            for (Conn c : new ArrayList<>(conns)) {
                close(c);
            }
            selector.close();
            if (progress != null) {
                progress.interrupt();
                try {
                    progress.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (results.finished() != results.size()) {
            throw new IllegalStateException(results.size() - results.finished() + " invocations never ended");
        }
        if (progressOut != null && options.progressEvery().toNanos() > 0) {
            progressOut.println(progressLine(end - start, -1, -1));
        }
        return results;
    }

    /**
     * Opens the first connections before the clock starts. Opening them on demand costs: let
     * the first answers be a little slow and a fast run opens hundreds of connections in a
     * burst, each a few syscalls, while due invocations wait — measured, a 90 ms lag spike at
     * 20,000/s with 32 connections ready, none with 512. By default as many as the busiest
     * {@value #PRECONNECT_WINDOW_MILLIS} ms of the schedule sends (at least 8). A target that is
     * not there is not an error here; the invocations will say so.
     */
    private void preconnect() throws IOException {
        int wanted = options.preconnect() >= 0 ? options.preconnect()
                : Math.max(8, busiest(PRECONNECT_WINDOW_MILLIS * 1_000_000));
        int count = Math.min(wanted, Math.min(options.maxConnections(), schedule.size()));
        long deadline = clock.nanoTime() + options.connectTimeout().toNanos();
        for (int k = 0; k < count; k++) {
            Conn c = new Conn();
            try {
                c.open(clock.nanoTime());
            } catch (IOException e) {
                return;
            }
            idle.addLast(c);
        }
        while (clock.nanoTime() < deadline && idle.stream().anyMatch(c -> !c.connected)) {
            clock.select(selector, key -> {
                Conn c = (Conn) key.attachment();
                try {
                    if (key.isConnectable() && c.channel.finishConnect()) {
                        c.connected = true;
                        key.interestOps(SelectionKey.OP_READ);
                    }
                } catch (IOException e) {
                    close(c);
                }
            }, 100);
        }
        for (Conn c : new ArrayList<>(idle)) {
            if (!c.connected) {
                close(c);
            }
        }
    }

    /** The most invocations scheduled within any window of {@code nanos}. */
    private int busiest(long nanos) {
        long[] at = schedule.at;
        int most = 0;
        for (int from = 0, to = 0; to < at.length; to++) {
            while (at[to] - at[from] >= nanos) {
                from++;
            }
            most = Math.max(most, to - from + 1);
        }
        return most;
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
        selector.selectNow(onReady);
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
            clock.select(selector, onReady, Math.min(waitMillis - 1, TIMEOUT_CHECK_NANOS / 1_000_000));
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
            results.notSent(k);
        }
        while (!backlog.isEmpty()) {
            results.notSent(backlog.poll());
        }
        for (Conn c : new ArrayList<>(conns)) {
            if (c.invocation != NONE) {
                fail(c, new IOException("run aborted"), false);
            }
        }
    }

    private void dispatch(int i) {
        Conn c = idle.pollFirst();
        if (c == null) {
            if (conns.size() >= options.maxConnections()) {
                backlog.add(i);
                return;
            }
            c = new Conn();
        }
        send(c, i, true);
    }

    /** Starts invocation {@code i} on {@code c}, opening the connection if it is new. */
    private void send(Conn c, int i, boolean firstAttempt) {
        long now = clock.nanoTime();
        c.invocation = i;
        c.received = 0;
        c.inLen = 0;
        inFlight++;
        if (firstAttempt) {
            c.retried = false;
            results.sentAt(i, now - start);
            sent.increment();
            lag.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, now - start - schedule.at[i]) / 1000));
            c.deadline = now + options.timeout().toNanos();
        }
        requests.render(i, request);
        c.setRequest(request);
        if (c.channel == null) {
            try {
                c.open(now);
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

    private void write(Conn c) {
        try {
            c.channel.write(c.out);
            int ops = c.out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (c.key.interestOps() != ops) {
                c.key.interestOps(ops);
            }
        } catch (IOException e) {
            fail(c, e, false);
        }
    }

    private void ready(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        Conn c = (Conn) key.attachment();
        try {
            if (key.isConnectable()) {
                if (!c.channel.finishConnect()) {
                    return;
                }
                c.connected = true;
                key.interestOps(SelectionKey.OP_READ);
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

    private void read(Conn c) throws IOException {
        boolean eof = false;
        while (true) {
            if (c.inLen == c.in.length) {
                if (c.in.length >= ResponseParser.MAX_HEADER + ResponseParser.MAX_BODY) {
                    throw new ResponseParser.ProtocolException("response too large");
                }
                c.grow();
            }
            c.inBuf.limit(c.in.length).position(c.inLen);
            int n = c.channel.read(c.inBuf);
            if (n < 0) {
                eof = true;
                break;
            }
            if (n == 0) {
                break;
            }
            c.inLen += n;
            c.received += n;
            if (c.inLen < c.in.length) {
                break; // drained what the socket had
            }
        }
        if (c.invocation == NONE) {
            close(c); // an idle connection closed by the server (or talking out of turn)
            return;
        }
        int length = ResponseParser.parse(c.in, c.inLen, eof, reply.reset());
        if (length < 0) {
            return;
        }
        answered(c);
    }

    private void answered(Conn c) {
        long now = clock.nanoTime();
        int i = c.invocation;
        c.invocation = NONE;
        inFlight--;
        reply.scanBody();
        results.answered(i, reply, now - start);
        if (reply.status >= 200 && reply.status < 300) {
            ok.increment();
            latency.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, now - start - schedule.at[i]) / 1000));
        } else if (reply.status == 429) {
            rejected.increment();
        } else {
            httpErrors.increment();
        }
        c.exchanges++;
        if (reply.close) {
            close(c);
        } else {
            release(c);
        }
    }

    /** A free connection takes the oldest waiting invocation, or rests on the idle stack. */
    private void release(Conn c) {
        if (!backlog.isEmpty() && !aborted) {
            send(c, backlog.poll(), true);
        } else {
            idle.addFirst(c);
        }
    }

    /** The exchange on {@code c} failed: retry once if a stale keep-alive socket is to blame, else record it. */
    private void fail(Conn c, IOException e, boolean connecting) {
        int i = c.invocation;
        boolean stale = !connecting && c.exchanges > 0 && c.received == 0;
        boolean retried = c.retried;
        long deadline = c.deadline;
        close(c);
        if (i == NONE) {
            return;
        }
        c.invocation = NONE;
        inFlight--;
        long now = clock.nanoTime();
        if (stale && !retried && !aborted && now < deadline && !(e instanceof SocketTimeoutException)) {
            // The server closed this idle socket as we reused it; the request never reached it.
            Conn fresh = new Conn();
            fresh.retried = true;
            fresh.deadline = deadline;
            send(fresh, i, false);
            return;
        }
        results.failed(i, Failure.of(e, connecting, aborted), String.valueOf(e.getMessage()), now - start);
        failed.increment();
        if (!backlog.isEmpty() && !aborted && conns.size() < options.maxConnections()) {
            dispatch(backlog.poll());
        }
    }

    private void expire(long now) {
        for (int k = conns.size() - 1; k >= 0 && k < conns.size(); k--) {
            Conn c = conns.get(k);
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

    private void close(Conn c) {
        if (c.key != null) {
            c.key.cancel();
        }
        if (c.channel != null) {
            try {
                c.channel.close();
            } catch (IOException ignored) {
                // it is going away either way
            }
        }
        if (conns.remove(c)) {
            idle.remove(c);
            connectionCount = conns.size();
        }
        c.channel = null;
        c.key = null;
        c.connected = false;
    }

    /** One keep-alive connection; touched only by the loop thread. */
    private final class Conn {
        SocketChannel channel;
        SelectionKey key;
        boolean connected;
        long connectDeadline;
        int invocation = NONE;
        long deadline;
        boolean retried;
        int exchanges;
        long received;
        /** The request being written: direct, so the write needs no copy into a temporary buffer. */
        ByteBuffer out = ByteBuffer.allocateDirect(512);
        byte[] in = new byte[4096];
        ByteBuffer inBuf = ByteBuffer.wrap(in);
        int inLen;

        void open(long now) throws IOException {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                connected = ch.connect(address);
                key = ch.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            channel = ch;
            connectDeadline = now + options.connectTimeout().toNanos();
            exchanges = 0;
            conns.add(this);
            connectionCount = conns.size();
        }

        void setRequest(RequestTemplates.Buffer r) {
            if (out.capacity() < r.length) {
                out = ByteBuffer.allocateDirect(Math.max(r.length, out.capacity() * 2));
            }
            out.clear();
            out.put(r.array, 0, r.length);
            out.flip();
        }

        void grow() {
            in = Arrays.copyOf(in, in.length * 2);
            inBuf = ByteBuffer.wrap(in);
        }
    }

    /** A growable FIFO of ints, used by one thread. */
    static final class IntRing {
        private int[] items = new int[1024];
        private int head;
        private int size;

        boolean isEmpty() {
            return size == 0;
        }

        int size() {
            return size;
        }

        void add(int v) {
            if (size == items.length) {
                int[] grown = new int[items.length * 2];
                for (int k = 0; k < size; k++) {
                    grown[k] = items[(head + k) % items.length];
                }
                items = grown;
                head = 0;
            }
            items[(head + size) % items.length] = v;
            size++;
        }

        int poll() {
            int v = items[head];
            head = (head + 1) % items.length;
            size--;
            return v;
        }
    }

    // ---------------------------------------------------------------- progress

    private final Histogram latencyTotal = new Histogram(HIGHEST_MICROS, 3);
    private final Histogram lagTotal = new Histogram(HIGHEST_MICROS, 3);
    private Histogram latencyInterval;
    private Histogram lagInterval;

    private Thread startProgress() {
        if (progressOut == null || options.progressEvery().toNanos() <= 0) {
            return null;
        }
        return Thread.ofPlatform().daemon().name("thaw-load-progress").start(() -> {
            long period = options.progressEvery().toNanos();
            long lastTime = start;
            long lastDone = 0;
            while (!Thread.currentThread().isInterrupted()) {
                long sleep = lastTime + period - clock.nanoTime();
                if (sleep > 0) {
                    try {
                        clock.sleepNanos(sleep);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                long now = clock.nanoTime();
                long doneNow = answered();
                double secs = (now - lastTime) / 1e9;
                long offeredNow = schedule.countBefore(now - start) - schedule.countBefore(lastTime - start);
                progressOut.println(progressLine(now - start, offeredNow / secs, (doneNow - lastDone) / secs));
                lastTime = now;
                lastDone = doneNow;
            }
        });
    }

    /** Invocations answered so far, any status; safe to read from any thread. */
    long answered() {
        return ok.sum() + rejected.sum() + httpErrors.sum();
    }

    private synchronized String progressLine(long sinceStart, double offered, double achieved) {
        // Recycling the interval histograms keeps the progress line from allocating ~0.5 MB each time.
        latencyInterval = latency.getIntervalHistogram(latencyInterval);
        lagInterval = lag.getIntervalHistogram(lagInterval);
        latencyTotal.add(latencyInterval);
        lagTotal.add(lagInterval);
        long inFlight = sent.sum() - answered() - failed.sum();
        String rates = offered < 0
                ? "done                                   "
                : String.format(Locale.ROOT, "offered %7.0f/s achieved %7.0f/s", offered, achieved);
        int conns = connectionCount; // racy read, display only
        return String.format(Locale.ROOT,
                "[%6.1fs] %s  in flight %d  conns %d  ok %d  429 %d  errors %d"
                        + "  latency p50 %.2f p99 %.2f ms  lag p99 %.3f ms (last period %.3f)",
                Math.max(0, sinceStart) / 1e9, rates, Math.max(0, inFlight), conns,
                ok.sum(), rejected.sum(), httpErrors.sum() + failed.sum(),
                latencyTotal.getValueAtPercentile(50) / 1000.0, latencyTotal.getValueAtPercentile(99) / 1000.0,
                lagTotal.getValueAtPercentile(99) / 1000.0, lagInterval.getValueAtPercentile(99) / 1000.0);
    }
}
