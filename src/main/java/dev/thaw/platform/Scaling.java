package dev.thaw.platform;

import dev.thaw.scale.Autoscaler;
import dev.thaw.scale.FixedKeepAlive;
import dev.thaw.scale.KeepAlivePolicy;
import dev.thaw.scale.RestoreSlots;

import java.time.Duration;

/**
 * How the platform scales (docs/design.md §7): the dispatch of calls that find no idle instance,
 * the autoscaler and the keep-alive policy. Apart from {@link Platform.Config} so that a daemon
 * that does not choose keeps today's behaviour and the config's constructors stay as they are.
 *
 * @param concurrencyTarget calls in flight per instance the autoscaler aims at, for functions
 *                          whose function.json gives no {@code concurrency_target}
 * @param restoreSlots      restores that may run at once for warm misses and the autoscaler
 * @param maxQueueWait      an invocation expected to wait longer than this for an instance is
 *                          refused at once (429 {@code overloaded}); {@code null}: never
 * @param restorePrior      the expected restore time of a function before it has restored once
 * @param keepAlive         the keep-alive and pre-warm policy
 * @param autoscaler        the stable and panic windows
 * @param prime             whether instances restored ahead of demand are primed before they are
 *                          offered to calls ({@code --prime auto}; a function may still opt out)
 */
public record Scaling(double concurrencyTarget, int restoreSlots, Duration maxQueueWait, Duration restorePrior,
                      KeepAlivePolicy keepAlive, Autoscaler.Settings autoscaler, boolean prime) {
    public Scaling {
        if (!(concurrencyTarget > 0 && concurrencyTarget <= 1)) {
            throw new IllegalArgumentException("concurrency target must be in (0, 1] calls per instance, got " + concurrencyTarget);
        }
        if (restoreSlots < 1) throw new IllegalArgumentException("restore slots must be at least 1, got " + restoreSlots);
        if (maxQueueWait != null && (maxQueueWait.isNegative() || maxQueueWait.isZero())) {
            throw new IllegalArgumentException("max queue wait must be positive, got " + maxQueueWait);
        }
        if (restorePrior == null) restorePrior = Duration.ofMillis(500);
        if (autoscaler == null) autoscaler = Autoscaler.Settings.DEFAULT;
    }

    /** With priming on ({@code --prime auto}, the default). */
    public Scaling(double concurrencyTarget, int restoreSlots, Duration maxQueueWait, Duration restorePrior,
                   KeepAlivePolicy keepAlive, Autoscaler.Settings autoscaler) {
        this(concurrencyTarget, restoreSlots, maxQueueWait, restorePrior, keepAlive, autoscaler, true);
    }

    /** Target 0.8, one restore slot per two cores, no fast refusal, fixed keep-alive of {@code idleTimeout}, priming on. */
    public static Scaling defaults(Duration idleTimeout) {
        return new Scaling(0.8, RestoreSlots.forCores(Runtime.getRuntime().availableProcessors()), null, null,
                new FixedKeepAlive(idleTimeout), null);
    }

    /** The same settings with priming on or off. */
    public Scaling withPrime(boolean on) {
        return new Scaling(concurrencyTarget, restoreSlots, maxQueueWait, restorePrior, keepAlive, autoscaler, on);
    }
}
