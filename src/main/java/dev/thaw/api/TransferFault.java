package dev.thaw.api;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fault injection for tests of the cluster's snapshot transfer: flips one byte in one answer of
 * {@code GET /snapshots/{name}/files/{file}}, so a test can watch a real fetching node detect the
 * checksum mismatch and fetch the file again.
 *
 * <p>Testing only, and hard to switch on by accident: it is not a command-line option but the
 * JVM system property {@code thaw.testing.corrupt-fetch=NODE:FILE} (e.g. {@code n4:memory.sparse}),
 * parsed strictly (a malformed value stops the daemon); it corrupts only the first answer for
 * {@code FILE} to a peer that names itself {@code NODE} in the {@code X-Thaw-Fetcher} header, and
 * only once per process; the daemon logs a warning at start when it is set. Off (absent) by default.
 */
final class TransferFault {
    static final String PROPERTY = "thaw.testing.corrupt-fetch";
    /** The header a fetching node names itself in ({@code cluster.SnapshotFetcher.FETCHER_HEADER}; the api layer cannot see the cluster's). */
    static final String FETCHER_HEADER = "X-Thaw-Fetcher";
    private static final System.Logger LOG = System.getLogger(TransferFault.class.getName());

    private final String node;
    private final String file;
    private final AtomicBoolean spent = new AtomicBoolean();

    private TransferFault(String node, String file) {
        this.node = node;
        this.file = file;
    }

    /** The fault the system property asks for, or null when it is absent (always, outside tests). */
    static TransferFault fromSystemProperty() {
        return parse(System.getProperty(PROPERTY));
    }

    static TransferFault parse(String value) {
        if (value == null) return null;
        String[] parts = nodeAnd(PROPERTY, value, "[A-Za-z0-9_.-]+", "NODE:FILE (e.g. n4:memory.sparse)");
        LOG.log(System.Logger.Level.WARNING, "TESTING ONLY: -D" + PROPERTY + "=" + value + " is set: one answer for "
                + parts[1] + " to node " + parts[0] + " will have a byte flipped");
        return new TransferFault(parts[0], parts[1]);
    }

    /**
     * {@code value} of a testing-only property {@code NODE:X} split in two, strictly: NODE a node
     * name, X matching {@code second}; else an {@link IllegalArgumentException} naming the
     * property and {@code usage} (which stops the daemon).
     */
    static String[] nodeAnd(String property, String value, String second, String usage) {
        String[] parts = value.split(":", -1);
        if (parts.length != 2 || !parts[0].matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}") || !parts[1].matches(second)) {
            throw new IllegalArgumentException("-D" + property + " must be " + usage + ", got \"" + value + "\"");
        }
        return parts;
    }

    /** Flips a byte of {@code body} in place if this is the answer to corrupt; true if it did. */
    boolean apply(String fetcher, String fileName, byte[] body) {
        if (!node.equals(fetcher) || !file.equals(fileName) || body.length == 0 || !spent.compareAndSet(false, true)) return false;
        body[body.length / 2] ^= 0x5a;
        LOG.log(System.Logger.Level.WARNING, "TESTING ONLY: flipped a byte of " + fileName + " sent to " + fetcher);
        return true;
    }
}
