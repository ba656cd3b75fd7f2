package dev.thaw.scale;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC'20), for
 * one function at a time: learn its idle-time distribution, and from it choose when to stop its
 * instances and when to start one again before the next call is due.
 *
 * <p>Per function an {@link IdleHistogram} (by default 1-minute bins over 4 hours, the paper's).
 * The pre-warm window is the 5th percentile's bin start minus a 10% margin, the keep-alive window
 * reaches to the 99th percentile's bin end plus 10%: calls that come sooner than the head find an
 * instance kept from the last one (pre-warm 0) and calls in the body find the pre-warmed one,
 * while the instance is not kept through the long gaps in between. The histogram is trusted only
 * when it is representative; otherwise the function gets the fixed keep-alive (the paper's
 * "standard keep-alive"; its ARIMA branch for mostly out-of-range idle times is not built, those
 * functions get the fixed keep-alive too):
 * <ul>
 *   <li>fewer than {@code minSamples} idle times observed;</li>
 *   <li>more than {@code maxOutOfRange} of them beyond the histogram's range;</li>
 *   <li>the bin counts' coefficient of variation below {@code minCv} (idle times spread evenly:
 *       no head and tail to learn).</li>
 * </ul>
 * Under a trace replayed N× faster, idle times shrink N×; scale the bin width with it.
 */
public final class HistogramKeepAlive implements KeepAlivePolicy {
    /**
     * @param bin            bin width (paper: 1 minute)
     * @param bins           number of bins; their span is the range (paper: 240, 4 hours)
     * @param headPercentile percentile that sets the pre-warm window (paper: 5)
     * @param tailPercentile percentile that sets the end of the keep-alive window (paper: 99)
     * @param margin         fraction taken off the head and added to the tail (paper: 0.1)
     * @param minSamples     idle times needed before the histogram is used
     * @param minCv          coefficient of variation of the bin counts below which it is not representative (paper: 2)
     * @param maxOutOfRange  fraction of idle times beyond the range above which it is not used
     */
    public record Settings(Duration bin, int bins, double headPercentile, double tailPercentile, double margin,
                           int minSamples, double minCv, double maxOutOfRange) {
        public static final Settings PAPER = new Settings(Duration.ofMinutes(1), 240, 5, 99, 0.1, 10, 2, 0.5);

        public Settings {
            if (bin.isNegative() || bin.isZero() || bins < 1) throw new IllegalArgumentException("bins must be positive");
            if (!(headPercentile >= 0 && headPercentile < tailPercentile && tailPercentile <= 100)) {
                throw new IllegalArgumentException("percentiles must satisfy 0 <= head < tail <= 100");
            }
            if (!(margin >= 0 && margin < 1) || minSamples < 1 || !(minCv >= 0) || !(maxOutOfRange >= 0 && maxOutOfRange <= 1)) {
                throw new IllegalArgumentException("margin 0..1, min samples >= 1, min CV >= 0, out-of-range fraction 0..1");
            }
        }

        /** The paper's settings with another bin width (e.g. for a replay sped up N×: 1 minute / N). */
        public Settings withBin(Duration width) {
            return new Settings(width, bins, headPercentile, tailPercentile, margin, minSamples, minCv, maxOutOfRange);
        }
    }

    private final Settings settings;
    private final Duration fallback;
    private final Map<String, IdleHistogram> histograms = new ConcurrentHashMap<>();

    public HistogramKeepAlive(Settings settings, Duration fallbackKeepAlive) {
        this.settings = settings;
        this.fallback = fallbackKeepAlive;
    }

    @Override
    public String name() {
        return "histogram";
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void observeIdle(String function, Duration idle) {
        histograms.computeIfAbsent(function, f -> new IdleHistogram(settings.bin().toNanos(), settings.bins()))
                .add(idle.toNanos());
    }

    @Override
    public void forget(String function) {
        histograms.remove(function);
    }

    @Override
    public Windows windows(String function) {
        IdleHistogram h = histograms.get(function);
        long total = h == null ? 0 : h.total();
        if (total < settings.minSamples()) return fixed("fallback: " + total + " idle times, fewer than " + settings.minSamples());
        if (h.outOfRange() > settings.maxOutOfRange() * total) return fixed("fallback: idle times mostly beyond the range");
        double cv = h.binCountCv();
        if (cv < settings.minCv()) return fixed(String.format(java.util.Locale.ROOT, "fallback: not representative (CV %.2f)", cv));
        long bin = h.binNanos();
        long head = (long) (h.percentileBin(settings.headPercentile()) * bin * (1 - settings.margin()));
        long tail = (long) ((h.percentileBin(settings.tailPercentile()) + 1) * bin * (1 + settings.margin()));
        return new Windows(Duration.ofNanos(head), Duration.ofNanos(Math.max(0, tail - head)), "histogram");
    }

    private Windows fixed(String why) {
        return new Windows(Duration.ZERO, fallback, why);
    }
}
