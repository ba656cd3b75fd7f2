package dev.thaw.load;

import java.util.List;

/**
 * Every invocation of a run, sorted by scheduled time, as parallel primitive arrays.
 *
 * <p>The whole schedule is computed before the first request so the send loop only reads
 * arrays: no generation, boxing or allocation while the clock runs. Times are nanoseconds
 * from the start of the run, already divided by the speed factor.
 */
final class Schedule {
    final List<LoadFunction> functions;
    final long[] at;
    final int[] function;
    final int[] durationMs;
    final int[] memoryMib;
    /** The planned length of the run (the trace window after compression), ≥ the last arrival. */
    final long spanNanos;

    Schedule(List<LoadFunction> functions, long[] at, int[] function, int[] durationMs, int[] memoryMib, long spanNanos) {
        int n = at.length;
        if (function.length != n || durationMs.length != n || memoryMib.length != n) {
            throw new IllegalArgumentException("schedule arrays differ in length");
        }
        for (int i = 1; i < n; i++) {
            if (at[i] < at[i - 1]) {
                throw new IllegalArgumentException("schedule is not sorted at invocation " + i);
            }
        }
        this.functions = List.copyOf(functions);
        this.at = at;
        this.function = function;
        this.durationMs = durationMs;
        this.memoryMib = memoryMib;
        this.spanNanos = Math.max(spanNanos, n == 0 ? 0 : at[n - 1]);
    }

    int size() {
        return at.length;
    }

    /** Number of invocations scheduled before {@code nanos} (binary search). */
    int countBefore(long nanos) {
        int lo = 0;
        int hi = at.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (at[mid] < nanos) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The most invocations scheduled within any window of {@code nanos}. */
    int busiest(long nanos) {
        int most = 0;
        for (int from = 0, to = 0; to < at.length; to++) {
            while (at[to] - at[from] >= nanos) {
                from++;
            }
            most = Math.max(most, to - from + 1);
        }
        return most;
    }
}
