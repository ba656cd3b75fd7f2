package dev.thaw.vm;

/**
 * What a guest may send its host over the agent connection. Everything a guest sends is untrusted
 * input: these bounds keep a hostile or broken guest from growing the daemon's memory or flooding
 * it with calls. Breaking one is the guest's fault: its connection is closed, the request waiting
 * on it fails with a {@link VmException.Protocol} naming the limit, and the VM is discarded.
 *
 * @param maxLineBytes          longest line (one JSON message); a reply longer than this is
 *                              {@code result_too_large}, any other {@code guest_protocol}
 * @param maxCallsInFlight      calls to other functions one guest may have outstanding at once
 * @param maxCallsPerInvocation calls one invocation may make in all
 */
public record GuestLimits(int maxLineBytes, int maxCallsInFlight, int maxCallsPerInvocation) {
    /** 8 MiB lines (results a little above the API's 6 MiB request limit), 16 calls at once, 1,000 per invocation. */
    public static final GuestLimits DEFAULT = new GuestLimits(8 << 20, 16, 1000);

    public GuestLimits {
        if (maxLineBytes < 1024 || maxCallsInFlight < 1 || maxCallsPerInvocation < 1) {
            throw new IllegalArgumentException("guest limits must be positive (lines at least 1024 bytes): line "
                    + maxLineBytes + ", calls in flight " + maxCallsInFlight + ", calls per invocation " + maxCallsPerInvocation);
        }
    }
}
