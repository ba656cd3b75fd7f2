package dev.thaw.memory;

import dev.thaw.sys.Native;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Records which guest pages a VM touches, and when, by sampling {@code /proc/PID/pagemap} over
 * the VMM's mapping of the snapshot memory file every few milliseconds.
 *
 * <p>Why pagemap and not the page cache: with this host's 8 MiB readahead one fault brings in
 * thousands of pages the guest never touches, so {@code mincore} residency overstates the
 * working set; the VMM's page tables say which pages it mapped (docs/design.md §4). They are
 * not exactly the pages the guest touched: the kernel's fault-around maps neighbouring cached
 * pages with each fault, so a record taken with a large read-ahead is larger (hello: 26 MiB at
 * read_ahead_kb 128 or 8192, 5.1 MiB at 0). A private file mapping only gains entries by
 * faults, so each sample's new pages form the next working-set group. Reading 64 K pagemap entries takes a few ms, which bounds the interval.
 */
public final class WorkingSetSampler implements AutoCloseable {
    private final long pid;
    private final Mapping mapping;
    private final int intervalMs;
    private final List<BitSet> groups = new ArrayList<>();
    private final BitSet seen = new BitSet();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile IOException failure;

    private WorkingSetSampler(long pid, Mapping mapping, int intervalMs) {
        this.pid = pid;
        this.mapping = mapping;
        this.intervalMs = intervalMs;
        this.thread = Thread.ofPlatform().daemon().name("ws-sampler-" + pid).start(this::loop);
    }

    /** Starts sampling the mapping of {@code memoryFile} in process {@code pid}. */
    public static WorkingSetSampler start(long pid, Path memoryFile, int intervalMs) throws IOException {
        List<Mapping> maps = Mappings.find(pid, memoryFile);
        if (maps.isEmpty()) throw new IOException("process " + pid + " does not map " + memoryFile);
        Mapping largest = maps.stream().max(java.util.Comparator.comparingLong(Mapping::length)).orElseThrow();
        return new WorkingSetSampler(pid, largest, intervalMs);
    }

    private void loop() {
        while (running) {
            sample();
            LockSupport.parkNanos(intervalMs * 1_000_000L);
        }
    }

    private synchronized void sample() {
        try {
            BitSet now = Pagemap.present(pid, mapping);
            // Page i of the mapping is page (offset/4096 + i) of the file.
            long base = mapping.offset() / Native.PAGE_SIZE;
            BitSet fresh = new BitSet();
            for (int i = now.nextSetBit(0); i >= 0; i = now.nextSetBit(i + 1)) {
                int page = (int) (base + i);
                if (!seen.get(page)) fresh.set(page);
            }
            if (!fresh.isEmpty()) {
                seen.or(fresh);
                groups.add(fresh);
            }
        } catch (IOException e) {
            failure = e; // the VMM exited; keep what was recorded
            running = false;
        }
    }

    /** Takes a last sample, stops, and returns the groups in time order. */
    public synchronized List<BitSet> finish() throws IOException {
        running = false;
        thread.interrupt();
        if (failure == null) sample();
        if (failure != null && groups.isEmpty()) throw failure;
        return List.copyOf(groups);
    }

    public long totalPages() {
        return mapping.length() / Native.PAGE_SIZE;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
