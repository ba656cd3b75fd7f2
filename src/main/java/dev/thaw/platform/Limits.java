package dev.thaw.platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Admission limits (see {@link Admission}).
 *
 * @param maxInstances    running instances, busy or idle, across all functions
 * @param memoryBudgetMib sum of the guest memory of those instances
 * @param concurrency     invocations of one function running at once
 * @param queueDepth      invocations of one function waiting for a slot
 * @param queueTimeout    how long one may wait before it gets a 429
 */
public record Limits(int maxInstances, long memoryBudgetMib, int concurrency, int queueDepth, Duration queueTimeout) {
    /** Defaults from the host: 3/4 of its memory for guests, eight instances per core. */
    public static Limits forHost() {
        long hostMib = hostMemoryMib();
        int cores = Runtime.getRuntime().availableProcessors();
        return new Limits(Math.max(4, cores * 8), hostMib * 3 / 4, Math.max(2, cores * 4), 64, Duration.ofSeconds(30));
    }

    public Limits {
        if (maxInstances < 1 || memoryBudgetMib < 128 || concurrency < 1 || queueDepth < 0 || queueTimeout.isNegative()) {
            throw new IllegalArgumentException("limits must be positive: instances " + maxInstances + ", memory "
                    + memoryBudgetMib + " MiB, concurrency " + concurrency + ", queue " + queueDepth + ", timeout " + queueTimeout);
        }
    }

    static long hostMemoryMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        } catch (IOException | NumberFormatException ignored) {
            // no /proc: assume a small host
        }
        return 4096;
    }
}
