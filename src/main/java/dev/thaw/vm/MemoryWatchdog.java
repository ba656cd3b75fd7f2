package dev.thaw.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Kills a jailed VM whose anonymous memory has filled its cgroup, instead of letting it thrash.
 *
 * <p>Why: at its memory limit a VM's cgroup reclaims page cache before the kernel's OOM killer
 * acts, and a restored QEMU's page cache is its own code and the clean pages of the guest's
 * memory file. With no swap, the anonymous pages (the guest's copy-on-write RAM, QEMU's heap and
 * translated code) cannot go anywhere, so a guest that keeps writing new pages evicts the few
 * MiB of code it runs, faults them back, and crawls: measured here, a guest touching 180 MiB in
 * a 160 MiB group sat at the limit for minutes (100,000s of failed charges a second, anon flat)
 * and never reached the OOM kill. The kernel is right that progress is possible; the tenant is
 * not served. So once a second this thread reads each VM's anonymous memory from its group's
 * {@code memory.stat} ({@code rss} on v1, {@code anon} on v2); a VM within {@link #MARGIN} of its
 * limit for {@link #STRIKES} checks in a row is killed (its invocation fails 502, the VM is
 * discarded, like a kernel OOM kill). Page cache alone never trips it: a VM reading files is
 * reclaimed, not killed.
 */
final class MemoryWatchdog {
    private static final System.Logger LOG = System.getLogger(MemoryWatchdog.class.getName());
    static final long MARGIN = 16L << 20;
    static final int STRIKES = 3;

    /** The rule for one VM, apart from the clock and the files (unit-tested). */
    static final class Watch {
        private final long limitBytes;
        private int strikes;

        Watch(long limitBytes) {
            this.limitBytes = limitBytes;
        }

        /** Records one reading; true when the VM must be killed. */
        boolean observe(long anonBytes) {
            strikes = anonBytes >= limitBytes - MARGIN ? strikes + 1 : 0;
            return strikes >= STRIKES;
        }
    }

    private record Entry(String id, long pid, Path memoryGroup, Watch watch) {}

    private final Map<String, Entry> watched = new ConcurrentHashMap<>();
    private ScheduledExecutorService thread;

    synchronized void watch(String id, long pid, Path memoryGroup, long limitBytes) {
        watched.put(id, new Entry(id, pid, memoryGroup, new Watch(limitBytes)));
        if (thread == null) {
            thread = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "thaw-vm-memory-watchdog");
                t.setDaemon(true);
                return t;
            });
            thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        }
    }

    void forget(String id) {
        watched.remove(id);
    }

    private void tick() {
        for (Entry e : watched.values()) {
            long anon = anonBytes(e.memoryGroup());
            if (anon >= 0 && e.watch().observe(anon)) {
                LOG.log(System.Logger.Level.WARNING, "VM " + e.id() + " filled its cgroup's memory (" + (anon >> 20)
                        + " MiB anonymous, limit " + (e.watch().limitBytes >> 20) + " MiB) and is killed");
                watched.remove(e.id());
                ProcessHandle.of(e.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** Anonymous bytes charged to a memory group ({@code rss} on v1, {@code anon} on v2), or -1. */
    static long anonBytes(Path memoryGroup) {
        try {
            for (String line : Files.readAllLines(memoryGroup.resolve("memory.stat"))) {
                if (line.startsWith("rss ") || line.startsWith("anon ")) return Long.parseLong(line.substring(line.indexOf(' ') + 1).strip());
            }
        } catch (IOException | NumberFormatException e) {
            // the group is gone with its VM
        }
        return -1;
    }
}
