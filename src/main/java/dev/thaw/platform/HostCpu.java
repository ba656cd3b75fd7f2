package dev.thaw.platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.DoubleSupplier;

/**
 * The host's idle CPU, in cores, over the last quarter second or more: the headroom a restore
 * would take from the instances serving calls. Read from the first line of {@code /proc/stat}
 * (idle + iowait jiffies against the total) between two readings at least 250 ms apart; between
 * them the last value is repeated, so asking often costs nothing. Everything on the host counts —
 * other daemons and benchmarks on a shared machine too, which is the point: a restore on a CPU
 * that is already saturated makes every running call slower and adds no capacity.
 */
final class HostCpu implements DoubleSupplier {
    private static final long PERIOD_NANOS = 250_000_000L;
    private final int cores = Runtime.getRuntime().availableProcessors();
    private long lastAt;
    private long lastIdle = -1;
    private long lastTotal;
    private double idleCores;

    HostCpu() {
        idleCores = cores;
        sample(System.nanoTime());
    }

    /** Idle cores (0 to the core count); the host's core count when /proc/stat cannot be read. */
    @Override
    public synchronized double getAsDouble() {
        long now = System.nanoTime();
        if (now - lastAt >= PERIOD_NANOS) sample(now);
        return idleCores;
    }

    private void sample(long now) {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]); // user … steal
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            if (lastIdle >= 0 && total > lastTotal) idleCores = cores * (double) (idle - lastIdle) / (total - lastTotal);
            lastIdle = idle;
            lastTotal = total;
            lastAt = now;
        } catch (IOException | RuntimeException e) {
            idleCores = cores; // no /proc: do not hold restores back on a guess
            lastAt = now;
        }
    }
}
