package dev.thaw.client;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * No answer from the daemon: the connection was refused or timed out, the request got no reply
 * within its deadline, the connection broke, or the waiting thread was interrupted (the thread's
 * interrupt flag is set again). The message names the daemon's URL and what happened.
 */
public final class DaemonUnreachableException extends UncheckedIOException {
    private final boolean timedOut;

    DaemonUnreachableException(String message, IOException cause, boolean timedOut) {
        super(message, cause);
        this.timedOut = timedOut;
    }

    /** The connection or the answer did not come within its timeout. */
    public boolean timedOut() {
        return timedOut;
    }
}
