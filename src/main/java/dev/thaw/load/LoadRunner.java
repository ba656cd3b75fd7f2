package dev.thaw.load;

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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Plays a {@link Schedule} against an HTTP target, open loop.
 *
 * <p>Design: two kinds of thread, each doing one thing. The <em>scheduler</em> (the caller's
 * thread) walks the pre-computed schedule: it parks until shortly before each due time (with
 * the timer slack lowered, see {@link TimerSlack}), spins the last microseconds, and drops the
 * invocation's index into a lock-free single-producer queue of an <em>I/O loop</em>. An I/O
 * loop is a platform thread with a {@link Selector} that owns its HTTP/1.1 keep-alive
 * connections outright: it writes the request on an idle connection (or opens a new one,
 * non-blocking), reads and parses answers as they arrive, and returns connections to its idle
 * stack. One request is in flight per connection (no pipelining: a slow invocation must not
 * hold up the next), so concurrency comes from connections, up to a limit; beyond it an
 * invocation waits in the loop's backlog, and the wait shows as schedule lag.
 *
 * <p>Why not a virtual thread per connection: measured on two cores, the unpark/park and
 * poller round trips of every request cost more CPU than the request itself; this design's
 * per-request work is one queue slot, one write, one read and a parse, with a selector wake-up
 * only when the loop is asleep. Sockets have a single owner, so no locks.
 *
 * <p>Open loop and honest: a request goes out at its time whether or not earlier ones were
 * answered, latency runs from the <em>scheduled</em> time (no coordinated omission), and the
 * schedule lag (sent − scheduled) makes a saturated client visible. Every invocation ends in
 * {@link Results} exactly once; deadlines bound every exchange, so a run always ends.
 */
final class LoadRunner {
    /**
     * @param maxConnections  connections at most (over all I/O loops)
     * @param timeout         per-invocation limit from sending to the complete answer
     * @param connectTimeout  limit for opening a connection
     * @param spinNanos       the scheduler spins instead of parking for this long before a due time
     * @param tickNanos       the scheduler wakes at most once per tick (batching sends)
     * @param leadIn          time between starting and the first scheduled instant
     * @param progressEvery   period of the progress line (zero: none)
     * @param keepInstances   record each invocation's instance (for the CSV)
     * @param ioThreads       I/O loops; invocations are dealt to them round-robin
     */
    record Options(int maxConnections, Duration timeout, Duration connectTimeout, long spinNanos, long tickNanos,
                   Duration leadIn, Duration progressEvery, boolean keepInstances, int ioThreads) {
        static Options defaults() {
            return new Options(512, Duration.ofSeconds(120), Duration.ofSeconds(5), 0, 500_000,
                    Duration.ofMillis(200), Duration.ofSeconds(5), false, 1);
        }
    }

    private static final int NONE = -1;
    private static final long HIGHEST_MICROS = 3_600_000_000L;
    private static final long TIMEOUT_CHECK_NANOS = 10_000_000;

    private final Schedule schedule;
    private final RequestTemplates requests;
    private final InetSocketAddress address;
    private final Options options;
    private final PrintStream progressOut;
    private final Results results;
    private final IoLoop[] loops;

    private final Recorder latency = new Recorder(HIGHEST_MICROS, 3);
    private final Recorder lag = new Recorder(HIGHEST_MICROS, 3);
    private final LongAdder sent = new LongAdder();
    private final LongAdder ok = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder httpErrors = new LongAdder();
    private final LongAdder failed = new LongAdder();

    private volatile Thread scheduler;
    private volatile boolean aborted;
    private volatile boolean schedulerDone;
    private long start;
    private long end;

    LoadRunner(Schedule schedule, RequestTemplates requests, InetSocketAddress address, Options options,
               PrintStream progressOut) {
        if (options.ioThreads() < 1 || options.maxConnections() < options.ioThreads()) {
            throw new IllegalArgumentException("need at least one I/O thread and one connection per I/O thread");
        }
        this.schedule = schedule;
        this.requests = requests;
        this.address = address;
        this.options = options;
        this.progressOut = progressOut;
        this.results = new Results(schedule.size(), options.keepInstances());
        this.loops = new IoLoop[options.ioThreads()];
    }

    /** Stops sending; unsent invocations end as NOT_SENT, in-flight ones as aborted failures. */
    void abort() {
        aborted = true;
        Thread s = scheduler;
        if (s != null) {
            LockSupport.unpark(s);
        }
        for (IoLoop loop : loops) {
            if (loop != null) {
                loop.selector.wakeup();
            }
        }
    }

    /** Nanoseconds from the schedule's zero to the end of the last invocation (valid after {@link #run()}). */
    long elapsedNanos() {
        return end - start;
    }

    /** Runs the whole schedule on the calling thread and returns when every invocation has ended. */
    Results run() throws IOException {
        scheduler = Thread.currentThread();
        int perLoop = (options.maxConnections() + loops.length - 1) / loops.length;
        for (int k = 0; k < loops.length; k++) {
            loops[k] = new IoLoop(k, perLoop);
        }
        TimerSlack.minimise();
        // Building the schedule left garbage behind; collect it now rather than in the middle of
        // the measured run (the run itself allocates next to nothing).
        System.gc();
        start = System.nanoTime() + options.leadIn().toNanos();
        for (IoLoop loop : loops) {
            loop.thread.start();
        }
        Thread progress = startProgress();
        try {
            schedule();
        } finally {
            schedulerDone = true;
            for (IoLoop loop : loops) {
                loop.selector.wakeup();
            }
            for (IoLoop loop : loops) {
                joinQuietly(loop.thread);
            }
            end = Math.max(System.nanoTime(), start);
            if (progress != null) {
                progress.interrupt();
                joinQuietly(progress);
            }
        }
        for (IoLoop loop : loops) {
            if (loop.crash != null) {
                throw new IOException("I/O loop failed: " + loop.crash, loop.crash);
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

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends every invocation at its time. The scheduler wakes at most once per tick and hands
     * over everything due by then as one batch (one selector wake-up per batch, not per
     * request): at high rates that trades up to a tick of lag for far fewer context switches;
     * at low rates (gaps longer than a tick) it sleeps exactly until the next due time.
     */
    private void schedule() {
        final long[] at = schedule.at;
        final int n = at.length;
        final long spin = options.spinNanos();
        final long tick = options.tickNanos();
        final int loopCount = loops.length;
        int i = 0;
        while (i < n && !aborted) {
            long now = System.nanoTime();
            int first = i;
            while (i < n && start + at[i] <= now) {
                loops[loopCount == 1 ? 0 : i % loopCount].offer(i);
                i++;
            }
            if (i > first) {
                for (IoLoop loop : loops) {
                    loop.wake();
                }
            }
            if (i >= n) {
                break;
            }
            long due = start + at[i];
            long wait = due - now;
            if (wait > tick) {
                if (wait > spin) {
                    LockSupport.parkNanos(wait - spin);
                }
                while (System.nanoTime() < due && !aborted) {
                    Thread.onSpinWait();
                }
            } else {
                LockSupport.parkNanos(tick);
            }
        }
        for (int k = i; k < n; k++) {
            results.notSent(k);
        }
    }

    // ---------------------------------------------------------------- I/O loops

    /** One selector thread and the connections it owns. */
    private final class IoLoop implements Runnable {
        final Selector selector;
        final Thread thread;
        final Inbox inbox = new Inbox(1 << 16);
        final ArrayDeque<Conn> idle = new ArrayDeque<>();
        final List<Conn> conns = new ArrayList<>();
        final IntRing backlog = new IntRing();
        final int maxConnections;
        final RequestTemplates.Buffer request = requests.newBuffer();
        final Reply reply = new Reply();
        volatile boolean sleeping;
        volatile Throwable crash;
        int inFlight;
        long nextTimeoutCheck;

        IoLoop(int index, int maxConnections) throws IOException {
            this.selector = Selector.open();
            this.maxConnections = maxConnections;
            this.thread = Thread.ofPlatform().daemon().name("thaw-load-io-" + index).unstarted(this);
        }

        /** Scheduler thread: hands over invocation {@code i}; {@link #wake()} follows the batch. */
        void offer(int i) {
            while (!inbox.offer(i)) {
                wake();
                LockSupport.parkNanos(10_000); // the loop is 65k invocations behind: wait, it shows as lag
            }
        }

        /** Scheduler thread: wakes the loop if it is waiting in select (a syscall, so only then). */
        void wake() {
            if (sleeping) {
                selector.wakeup();
            }
        }

        @Override
        public void run() {
            try {
                loop();
            } catch (Throwable t) {
                crash = t;
                // Whatever this loop still held must not be lost from the accounting.
                for (Conn c : new ArrayList<>(conns)) {
                    if (c.invocation != NONE) {
                        int i = c.invocation;
                        c.invocation = NONE;
                        results.failed(i, Failure.OTHER, "I/O loop failed: " + t, System.nanoTime() - start);
                    }
                }
                while (!backlog.isEmpty()) {
                    results.notSent(backlog.poll());
                }
                int i;
                while (!schedulerDone || !inbox.isEmpty()) {
                    while ((i = inbox.poll()) != NONE) {
                        results.notSent(i);
                    }
                    LockSupport.parkNanos(1_000_000);
                }
            } finally {
                for (Conn c : new ArrayList<>(conns)) {
                    close(c);
                }
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // nothing left to do with it
                }
            }
        }

        private void loop() throws IOException {
            while (true) {
                boolean done = schedulerDone; // read before draining: nothing arrives after it is set
                if (aborted) {
                    abortAll();
                } else {
                    drainInbox();
                }
                if (done && inbox.isEmpty() && inFlight == 0 && backlog.isEmpty()) {
                    return;
                }
                sleeping = true;
                // The consumer form of select hands over ready keys without building a key set.
                if (inbox.isEmpty() && !aborted) {
                    selector.select(this::ready, 10);
                } else {
                    selector.selectNow(this::ready);
                }
                sleeping = false;
                long now = System.nanoTime();
                if (now >= nextTimeoutCheck) {
                    nextTimeoutCheck = now + TIMEOUT_CHECK_NANOS;
                    expire(now);
                }
            }
        }

        private void drainInbox() {
            int i;
            while ((i = inbox.poll()) != NONE) {
                dispatch(i);
            }
        }

        private void abortAll() {
            int i;
            while ((i = inbox.poll()) != NONE) {
                results.notSent(i);
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
                if (conns.size() >= maxConnections) {
                    backlog.add(i);
                    return;
                }
                c = new Conn();
            }
            send(c, i, true);
        }

        /** Starts invocation {@code i} on {@code c}, opening the connection if it is new. */
        private void send(Conn c, int i, boolean firstAttempt) {
            long now = System.nanoTime();
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
                    c.channel.finishConnect();
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
            long now = System.nanoTime();
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
            long now = System.nanoTime();
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
            if (!backlog.isEmpty() && !aborted && conns.size() < maxConnections) {
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
            }
            c.channel = null;
            c.key = null;
            c.connected = false;
        }

        /** One keep-alive connection; touched only by its loop's thread. */
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
            ByteBuffer out = ByteBuffer.allocate(512);
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
            }

            void setRequest(RequestTemplates.Buffer r) {
                if (out.capacity() < r.length) {
                    out = ByteBuffer.allocate(Math.max(r.length, out.capacity() * 2));
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
    }

    /**
     * A bounded single-producer single-consumer queue of invocation indices: the scheduler
     * writes the slot, then publishes the tail with release semantics; the loop reads the tail
     * with acquire semantics, then the slot.
     */
    static final class Inbox {
        private final int[] items;
        private final int mask;
        private final AtomicLong head = new AtomicLong();
        private final AtomicLong tail = new AtomicLong();

        Inbox(int capacityPowerOfTwo) {
            items = new int[capacityPowerOfTwo];
            mask = capacityPowerOfTwo - 1;
        }

        boolean offer(int v) {
            long t = tail.getPlain();
            if (t - head.getAcquire() == items.length) {
                return false;
            }
            items[(int) t & mask] = v;
            tail.setRelease(t + 1);
            return true;
        }

        int poll() {
            long h = head.getPlain();
            if (h == tail.getAcquire()) {
                return NONE;
            }
            int v = items[(int) h & mask];
            head.setRelease(h + 1);
            return v;
        }

        boolean isEmpty() {
            return head.getAcquire() == tail.getAcquire();
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
                long sleep = lastTime + period - System.nanoTime();
                if (sleep > 0) {
                    try {
                        Thread.sleep(Duration.ofNanos(sleep));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                long now = System.nanoTime();
                long doneNow = answered();
                double secs = (now - lastTime) / 1e9;
                long offeredNow = schedule.countBefore(now - start) - schedule.countBefore(lastTime - start);
                progressOut.println(progressLine(now - start, offeredNow / secs, (doneNow - lastDone) / secs));
                lastTime = now;
                lastDone = doneNow;
            }
        });
    }

    private long answered() {
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
        int conns = 0;
        for (IoLoop loop : loops) {
            conns += loop == null ? 0 : loop.conns.size(); // racy read, display only
        }
        return String.format(Locale.ROOT,
                "[%6.1fs] %s  in flight %d  conns %d  ok %d  429 %d  errors %d"
                        + "  latency p50 %.2f p99 %.2f ms  lag p99 %.3f ms",
                Math.max(0, sinceStart) / 1e9, rates, Math.max(0, inFlight), conns,
                ok.sum(), rejected.sum(), httpErrors.sum() + failed.sum(),
                latencyTotal.getValueAtPercentile(50) / 1000.0, latencyTotal.getValueAtPercentile(99) / 1000.0,
                lagTotal.getValueAtPercentile(99) / 1000.0);
    }
}
