package dev.thaw.sys;

import java.io.IOException;

/**
 * A libc call failed. Carries the call's name, what it was applied to (usually a file) and
 * errno, and reads like {@code fallocate(/var/tmp/mem): EOPNOTSUPP (Operation not supported)}.
 * It is an {@link IOException} because every call behind it is file or memory I/O, so callers
 * handle it where they already handle {@code java.nio.file} errors.
 */
public final class NativeException extends IOException {
    private final String call;
    private final int errno;

    NativeException(String call, String target, int errno) {
        super(call + (target == null ? "" : "(" + target + ")") + ": "
                + Native.errnoName(errno) + " (" + Native.strerror(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The libc function that failed, e.g. {@code "fallocate"}. */
    public String call() {
        return call;
    }

    /** The errno value the call left, e.g. 95 for EOPNOTSUPP. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code "EOPNOTSUPP"}. */
    public String errnoName() {
        return Native.errnoName(errno);
    }
}
