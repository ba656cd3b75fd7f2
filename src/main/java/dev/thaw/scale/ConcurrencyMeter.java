package dev.thaw.scale;

/**
 * The time-weighted average number of calls in flight of one function between two samples:
 * what Knative's autoscaler scales on. Calls entering and leaving move a level; the level's
 * integral over time divided by the time since the last sample is the average, so a burst that
 * comes and goes between two samples still counts. Time is passed in (nanoseconds of any
 * monotonic clock), so a simulator can drive it.
 */
public final class ConcurrencyMeter {
    private int level;
    private long lastChange;
    private long lastSample;
    private double integral; // call-nanoseconds since lastSample

    public ConcurrencyMeter(long nowNanos) {
        this.lastChange = nowNanos;
        this.lastSample = nowNanos;
    }

    /** A call entered ({@code +1}) or left ({@code -1}) at {@code nowNanos}. */
    public synchronized void change(long nowNanos, int delta) {
        advance(nowNanos);
        level = Math.max(0, level + delta);
    }

    public synchronized int level() {
        return level;
    }

    /** The average level since the previous sample (the current level if no time passed), and starts a new interval. */
    public synchronized double sample(long nowNanos) {
        advance(nowNanos);
        long span = nowNanos - lastSample;
        double avg = span <= 0 ? level : integral / span;
        integral = 0;
        lastSample = nowNanos;
        return avg;
    }

    private void advance(long nowNanos) {
        if (nowNanos > lastChange) {
            integral += (double) level * (nowNanos - lastChange);
            lastChange = nowNanos;
        }
    }
}
