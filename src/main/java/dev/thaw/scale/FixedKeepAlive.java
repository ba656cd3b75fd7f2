package dev.thaw.scale;

import java.time.Duration;

/** Today's policy: every instance stays for a fixed time after its last call, and nothing is pre-warmed. */
public record FixedKeepAlive(Duration keepAlive) implements KeepAlivePolicy {
    public FixedKeepAlive {
        if (keepAlive.isNegative()) throw new IllegalArgumentException("keep-alive must be >= 0, got " + keepAlive);
    }

    @Override
    public String name() {
        return "fixed";
    }

    @Override
    public Windows windows(String function) {
        return new Windows(Duration.ZERO, keepAlive, "fixed");
    }

    @Override
    public void observeIdle(String function, Duration idle) {
        // a fixed policy learns nothing
    }
}
