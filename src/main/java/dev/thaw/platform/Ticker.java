package dev.thaw.platform;

/**
 * The platform's monotonic clock. Production uses {@link System#nanoTime}; tests inject a manual
 * one so that keep-alive, timing and reaping can be checked without sleeping.
 */
@FunctionalInterface
public interface Ticker {
    long nanoTime();

    Ticker SYSTEM = System::nanoTime;
}
