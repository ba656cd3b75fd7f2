package dev.thaw.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link LoadRunner}'s connections to its target: the selector they are registered on,
 * every open connection, the idle ones (a stack: the one freed last is used first), and their
 * count for the progress line, the only thing here read by another thread. It opens and closes
 * connections and keeps these in step; which invocation goes on which connection, and when, is
 * the runner's business.
 */
final class Connections {
    /** By default, as many connections are opened ahead as the schedule's busiest window this long sends. */
    static final long PRECONNECT_WINDOW_MILLIS = 25;

    private final InetSocketAddress address;
    private final int max;
    private final long connectTimeoutNanos;
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private final List<Connection> open = new ArrayList<>();
    /** {@code open.size()}, for the progress thread. */
    private volatile int count;
    private Selector selector;

    Connections(InetSocketAddress address, int max, long connectTimeoutNanos) {
        this.address = address;
        this.max = max;
        this.connectTimeoutNanos = connectTimeoutNanos;
    }

    /** Opens the selector: first, on the loop thread. */
    void start() throws IOException {
        selector = Selector.open();
    }

    Selector selector() {
        return selector;
    }

    /** From any thread: ends a select in progress. */
    void wakeup() {
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    /** The idle connection freed last, or null. */
    Connection takeIdle() {
        return idle.pollFirst();
    }

    void putIdle(Connection c) {
        idle.addFirst(c);
    }

    boolean full() {
        return open.size() >= max;
    }

    /** Open connections so far; safe to read from any thread. */
    int count() {
        return count;
    }

    /** Every open connection; closing one removes it from this list. */
    List<Connection> open() {
        return open;
    }

    /** Starts connecting {@code c}, which counts as open from now on. */
    void connect(Connection c, long now) throws IOException {
        c.open(selector, address, now + connectTimeoutNanos);
        open.add(c);
        count = open.size();
    }

    void close(Connection c) {
        c.close();
        if (open.remove(c)) {
            idle.remove(c);
            count = open.size();
        }
    }

    /** Closes every connection and the selector. */
    void closeAll() throws IOException {
        for (Connection c : new ArrayList<>(open)) {
            close(c);
        }
        selector.close();
    }

    /**
     * Opens the first connections before the clock starts. Opening them on demand costs: let
     * the first answers be a little slow and a fast run opens hundreds of connections in a
     * burst, each a few syscalls, while due invocations wait — measured, a 90 ms lag spike at
     * 20,000/s with 32 connections ready, none with 512. So {@code wanted} connections are
     * opened, or if it is negative as many as the busiest {@value #PRECONNECT_WINDOW_MILLIS} ms
     * of {@code schedule} sends (at least 8), within the limit; and they have at most the connect
     * timeout to connect, after which the others are closed. A target that is not there is not
     * an error here: the invocations will say so.
     */
    void preconnect(int wanted, Schedule schedule, LoadClock clock) throws IOException {
        int n = wanted >= 0 ? wanted : Math.max(8, schedule.busiest(PRECONNECT_WINDOW_MILLIS * 1_000_000));
        n = Math.min(n, Math.min(max, schedule.size()));
        long deadline = clock.nanoTime() + connectTimeoutNanos;
        for (int k = 0; k < n; k++) {
            Connection c = new Connection();
            try {
                connect(c, clock.nanoTime());
            } catch (IOException e) {
                return;
            }
            idle.addLast(c);
        }
        while (clock.nanoTime() < deadline && idle.stream().anyMatch(c -> !c.connected)) {
            clock.select(selector, key -> {
                Connection c = (Connection) key.attachment();
                try {
                    if (key.isConnectable()) {
                        c.finishConnect();
                    }
                } catch (IOException e) {
                    close(c);
                }
            }, 100);
        }
        for (Connection c : new ArrayList<>(idle)) {
            if (!c.connected) {
                close(c);
            }
        }
    }
}
