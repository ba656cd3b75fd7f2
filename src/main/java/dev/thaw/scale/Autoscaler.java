package dev.thaw.scale;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How many instances one function should have, from its recent concurrency and a target, the
 * way Knative's autoscaler decides it.
 *
 * <p>Every sample is the function's average concurrency over the last interval
 * ({@link ConcurrencyMeter}). The desired count is {@code ceil(average / target)} over two
 * windows: the <b>stable</b> window (default 60 s) smooths out noise and governs scaling down;
 * the <b>panic</b> window (default 6 s) sees a rising rate early. When the panic window's count
 * reaches {@code panicThreshold} (2×) the instances ready, the function is in panic: it scales to
 * the panic window's count at once and does not scale down until a whole stable window passed
 * without panic — so a burst is met ahead of the queue it would build, and a lull inside it does
 * not throw away the instances it will need again. {@code target} is calls in flight per
 * instance; an instance serves one call at a time, so targets below 1 leave headroom (Knative's
 * target utilisation). Pure: time is passed in.
 */
public final class Autoscaler {
    /** Knative's defaults: 60 s stable, panic window 10% of it, panic at 200%. */
    public record Settings(Duration stableWindow, Duration panicWindow, double panicThreshold) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(60), Duration.ofSeconds(6), 2.0);

        public Settings {
            if (stableWindow.isNegative() || stableWindow.isZero() || panicWindow.isNegative() || panicWindow.isZero()
                    || panicWindow.compareTo(stableWindow) > 0) {
                throw new IllegalArgumentException("windows must be positive, panic <= stable: " + stableWindow + ", " + panicWindow);
            }
            if (!(panicThreshold >= 1)) throw new IllegalArgumentException("panic threshold must be >= 1, got " + panicThreshold);
        }
    }

    private record Sample(long at, double concurrency) {}

    private final Settings settings;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private long panicSince = Long.MIN_VALUE; // last time panic was (re)triggered
    private boolean panicking;
    private int panicDesired;

    public Autoscaler(Settings settings) {
        this.settings = settings;
    }

    /** Records the average concurrency of the interval that ended at {@code nowNanos}. */
    public synchronized void sample(long nowNanos, double concurrency) {
        samples.addLast(new Sample(nowNanos, Math.max(0, concurrency)));
        long oldest = nowNanos - settings.stableWindow().toNanos();
        while (!samples.isEmpty() && samples.peekFirst().at() <= oldest) samples.removeFirst();
    }

    /**
     * The instances the function should have now, given {@code ready} running now and its
     * {@code target} concurrency per instance.
     */
    public synchronized int desired(long nowNanos, int ready, double target) {
        if (!(target > 0)) throw new IllegalArgumentException("target must be > 0, got " + target);
        int stable = count(average(nowNanos, settings.stableWindow()), target);
        int panic = count(average(nowNanos, settings.panicWindow()), target);
        if (panic >= settings.panicThreshold() * Math.max(1, ready) && panic > ready) {
            if (!panicking) panicDesired = 0;
            panicking = true;
            panicSince = nowNanos;
        } else if (panicking && nowNanos - panicSince >= settings.stableWindow().toNanos()) {
            panicking = false;
        }
        if (panicking) {
            panicDesired = Math.max(panicDesired, Math.max(panic, stable)); // never down while panicking
            return panicDesired;
        }
        return stable;
    }

    public synchronized boolean panicking() {
        return panicking;
    }

    private double average(long nowNanos, Duration window) {
        long from = nowNanos - window.toNanos();
        double sum = 0;
        int n = 0;
        for (Sample s : samples) {
            if (s.at() > from) {
                sum += s.concurrency();
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    private static int count(double concurrency, double target) {
        // 1e-9: an average of exactly 2.0 over target 1 wants 2 instances, not 3 from rounding noise
        return (int) Math.ceil(concurrency / target - 1e-9);
    }
}
