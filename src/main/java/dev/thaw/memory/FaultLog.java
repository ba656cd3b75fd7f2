package dev.thaw.memory;

import dev.thaw.common.Percentiles;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Every fault a {@link PageServer} served, in the order they came: the page (of the memory file),
 * when it was first touched (ns since the server started), how long serving it took, and whether
 * it was a zero page. Under a MISSING registration each page faults at most once, so the log is
 * the exact working set in first-touch order — REAP's record — without the fault-around and
 * read-ahead that inflate a pagemap or mincore sample.
 *
 * <p>Written by the server's thread, read by invocations: appends and reads are synchronized (a
 * few hundred ns against a fault's tens of µs). Positions ({@link #size()}) mark windows, so an
 * invocation reports only the faults it caused.
 */
public final class FaultLog {
    /** Fault statistics of one window: count, zero pages, service time p50/p99 in µs. */
    public record Stats(long faults, long zeroPages, double p50Us, double p99Us) {}

    private long[] pages = new long[1024];
    private long[] touchedNs = new long[1024];
    private long[] serviceNs = new long[1024];
    private final BitSet zero = new BitSet();
    private int size;

    /** Logs a fault being served; returns its position for {@link #served}. */
    synchronized int add(long page, long touchedAtNs, boolean isZero) {
        if (size == pages.length) {
            pages = Arrays.copyOf(pages, size * 2);
            touchedNs = Arrays.copyOf(touchedNs, size * 2);
            serviceNs = Arrays.copyOf(serviceNs, size * 2);
        }
        pages[size] = page;
        touchedNs[size] = touchedAtNs;
        serviceNs[size] = -1;
        if (isZero) zero.set(size);
        return size++;
    }

    /** The service time of the fault at {@code entry}, once resolved. */
    synchronized void served(int entry, long serviceTimeNs) {
        serviceNs[entry] = serviceTimeNs;
    }

    public synchronized int size() {
        return size;
    }

    /** Statistics of the faults from position {@code from} on. */
    public synchronized Stats stats(int from) {
        int n = size - from;
        if (n <= 0) return new Stats(0, 0, 0, 0);
        double[] us = new double[n];
        int timed = 0;
        for (int i = 0; i < n; i++) if (serviceNs[from + i] >= 0) us[timed++] = serviceNs[from + i] / 1000.0;
        if (timed == 0) return new Stats(n, zero.get(from, size).cardinality(), 0, 0);
        us = Arrays.copyOf(us, timed); // a fault still being served has no time yet
        Arrays.sort(us);
        long zeros = zero.get(from, size).cardinality();
        return new Stats(n, zeros, round(Percentiles.ofSorted(us, 50)), round(Percentiles.ofSorted(us, 99)));
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /**
     * The faulted pages from position {@code from} on, grouped by first-touch time: pages touched
     * within the same {@code windowMs} window (counted from the first fault) form a group, groups
     * in time order — FaaSnap's working-set groups, from exact faults instead of RSS sampling.
     */
    public synchronized List<BitSet> groups(int from, int windowMs) {
        List<BitSet> groups = new ArrayList<>();
        if (size <= from) return groups;
        long origin = touchedNs[from], window = windowMs * 1_000_000L;
        for (int i = from; i < size; i++) {
            int g = (int) ((touchedNs[i] - origin) / window);
            while (groups.size() <= g) groups.add(new BitSet());
            groups.get(g).set((int) pages[i]);
        }
        groups.removeIf(BitSet::isEmpty);
        return groups;
    }

    /** The log as text after {@code header}: one fault a line, {@code page touched-µs service-µs zero}. */
    public synchronized String dump(String header) {
        StringBuilder b = new StringBuilder(header);
        for (int i = 0; i < size; i++) {
            b.append(pages[i]).append(' ').append(touchedNs[i] / 1000).append(' ').append(serviceNs[i] / 1000)
                    .append(' ').append(zero.get(i) ? 1 : 0).append('\n');
        }
        return b.toString();
    }

    /** The page of fault {@code i} (file page number). */
    public synchronized long page(int i) {
        if (i >= size) throw new IndexOutOfBoundsException(i);
        return pages[i];
    }
}
