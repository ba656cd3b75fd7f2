package dev.thaw.platform;

import java.util.concurrent.ThreadLocalRandom;

/** Short random identifiers for instances, invocations and staging directories. */
final class Ids {
    private Ids() {}

    /** Eight hex digits. */
    static String shortId() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 32 | 0x1_0000_0000L).substring(1);
    }
}
