package dev.thaw.scale;

import java.time.Duration;

/**
 * When a function's instances may be stopped after its last call, and when one should be
 * started again before the next: a pre-warm window and a keep-alive window, per function.
 *
 * <p>After a function's last call ends, its instances are stopped once the pre-warm window has
 * passed with no call if it is zero; with a pre-warm window {@code p > 0} they are stopped at
 * once, one instance is started again at {@code p}, and kept until {@code p + keepAlive}. This
 * is the contract of Shahrad et al., "Serverless in the Wild" (ATC'20), §4.2; the fixed policy
 * is the special case {@code p = 0}. Implementations learn from the function's idle times
 * ({@link #observeIdle}): the time from the end of one call of the function to the start of the
 * next, with no call in flight in between. Pure: no clock; the platform and a simulator call it.
 */
public interface KeepAlivePolicy {
    /**
     * @param prewarm   time after the last call during which no instance is kept (0: keep from the start)
     * @param keepAlive time after {@code prewarm} during which instances are kept
     * @param basis     what the windows came from, e.g. {@code fixed}, {@code histogram}, {@code fallback: few idle times}
     */
    record Windows(Duration prewarm, Duration keepAlive, String basis) {
        public Windows {
            if (prewarm.isNegative() || keepAlive.isNegative()) throw new IllegalArgumentException("windows must be >= 0");
        }
    }

    /** The policy's name, as {@code --keepalive-policy} and {@code /healthz} spell it. */
    String name();

    /** The function's windows now. */
    Windows windows(String function);

    /** Learns one idle time of a function. */
    void observeIdle(String function, Duration idle);

    /** Forgets a function (undeployed). */
    default void forget(String function) {
    }

    /** {@code fixed} or {@code histogram}, strictly; the fixed keep-alive is also the histogram's fallback. */
    static KeepAlivePolicy parse(String name, Duration fixedKeepAlive, HistogramKeepAlive.Settings histogram) {
        return switch (name) {
            case "fixed" -> new FixedKeepAlive(fixedKeepAlive);
            case "histogram" -> new HistogramKeepAlive(histogram, fixedKeepAlive);
            default -> throw new IllegalArgumentException("keep-alive policy must be fixed or histogram, got \"" + name + "\"");
        };
    }
}
