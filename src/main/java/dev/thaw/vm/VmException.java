package dev.thaw.vm;

/** A VM failed to do what was asked. Subclasses say whether it died or ran out of time. */
public class VmException extends RuntimeException {
    public VmException(String message) {
        super(message);
    }

    public VmException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The QEMU process exited, or its sockets closed, while we needed it. */
    public static final class Died extends VmException {
        public Died(String message) {
            super(message);
        }
    }

    /**
     * The guest broke the agent protocol or one of its {@link GuestLimits}: a malformed or
     * over-long line, too many calls. {@link #code()} names what it did.
     */
    public static final class Protocol extends VmException {
        private final String code;

        public Protocol(String code, String message) {
            super(message);
            this.code = code;
        }

        /** {@code guest_protocol}, {@code result_too_large} or {@code too_many_calls}. */
        public String code() {
            return code;
        }
    }

    /** The VM did not answer within the allowed time; it is killed by whoever catches this. */
    public static final class Timeout extends VmException {
        public Timeout(String message) {
            super(message);
        }
    }
}
