package dev.thaw.api;

/**
 * Slows down the snapshot files this node serves to one peer, so a test can watch that peer
 * restore a function while its snapshot is still arriving (the early restore): on loopback a
 * 128 MiB memory file arrives in a second or two, before anything could be observed.
 *
 * <p>Testing only, and hard to switch on by accident, like {@link TransferFault}: not a
 * command-line option but the JVM system property {@code thaw.testing.throttle-fetch=NODE:MIBPS}
 * (e.g. {@code n4:8}), parsed strictly (a malformed value stops the daemon); it delays every
 * answer of {@code GET /snapshots/{name}/files/{file}} to the peer naming itself {@code NODE} in
 * {@code X-Thaw-Fetcher} by its size at {@code MIBPS} MiB/s; the daemon logs a warning when it is
 * set. Off (absent) by default.
 */
final class TransferThrottle {
    static final String PROPERTY = "thaw.testing.throttle-fetch";
    private static final System.Logger LOG = System.getLogger(TransferThrottle.class.getName());

    private final String node;
    private final int mibPerSecond;

    private TransferThrottle(String node, int mibPerSecond) {
        this.node = node;
        this.mibPerSecond = mibPerSecond;
    }

    /** The throttle the system property asks for, or null when it is absent (always, outside tests). */
    static TransferThrottle fromSystemProperty() {
        return parse(System.getProperty(PROPERTY));
    }

    static TransferThrottle parse(String value) {
        if (value == null) return null;
        String[] parts = TransferFault.nodeAnd(PROPERTY, value, "[1-9][0-9]{0,4}", "NODE:MIBPS (e.g. n4:8, 1 to 99999 MiB/s)");
        LOG.log(System.Logger.Level.WARNING, "TESTING ONLY: -D" + PROPERTY + "=" + value + " is set: snapshot files sent to node "
                + parts[0] + " are slowed to " + parts[1] + " MiB/s");
        return new TransferThrottle(parts[0], Integer.parseInt(parts[1]));
    }

    /** How long an answer of {@code bytes} to {@code fetcher} is held back, in milliseconds (0: not throttled). */
    long delayMs(String fetcher, long bytes) {
        if (!node.equals(fetcher)) return 0;
        return bytes * 1000 / ((long) mibPerSecond << 20);
    }

    /** Holds the answer back as {@link #delayMs} says. */
    void apply(String fetcher, long bytes) {
        long ms = delayMs(fetcher, bytes);
        if (ms <= 0) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
