package dev.thaw.load;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fate of every scheduled invocation, one slot per invocation in parallel arrays.
 *
 * <p>Each slot is written by exactly one thread (the sender that ran the invocation, or the
 * scheduler for invocations it never sent) and {@link #finish} refuses a second outcome for
 * the same slot, so an invocation cannot be counted twice; {@link #finished()} reaching
 * {@link #size()} proves none was lost. The atomic counter is also what publishes the plain
 * array writes to the thread that reads them at the end of the run.
 */
final class Results {
    final long[] sent;
    final long[] done;
    final short[] status;
    final byte[] outcome;
    final byte[] coldStart;
    final byte[] failure;
    final long[] retryAfter;
    /** The instance that served each invocation; null unless asked for (CSV output). */
    final String[] instance;
    /** Error code from the reply body, or the I/O exception's message, for failed invocations. */
    final String[] detail;
    private final AtomicInteger finished = new AtomicInteger();

    Results(int n, boolean keepInstances) {
        sent = new long[n];
        done = new long[n];
        status = new short[n];
        outcome = new byte[n];
        coldStart = new byte[n];
        failure = new byte[n];
        retryAfter = new long[n];
        instance = keepInstances ? new String[n] : null;
        detail = new String[n];
        java.util.Arrays.fill(sent, -1);
        java.util.Arrays.fill(done, -1);
        java.util.Arrays.fill(retryAfter, -1);
    }

    int size() {
        return outcome.length;
    }

    int finished() {
        return finished.get();
    }

    Outcome outcome(int i) {
        return Outcome.VALUES[outcome[i]];
    }

    void sentAt(int i, long nanos) {
        sent[i] = nanos;
    }

    /** Records an HTTP answer received at {@code doneNanos}. */
    void answered(int i, Reply reply, long doneNanos) {
        done[i] = doneNanos;
        status[i] = (short) reply.status;
        coldStart[i] = (byte) reply.coldStart.ordinal();
        if (instance != null) {
            instance[i] = reply.instance();
        }
        Outcome o;
        if (reply.status >= 200 && reply.status < 300) {
            o = Outcome.OK;
        } else if (reply.status == 429) {
            o = Outcome.REJECTED;
            retryAfter[i] = reply.retryAfterSeconds;
            detail[i] = reply.errorCode();
        } else {
            o = Outcome.HTTP_ERROR;
            detail[i] = reply.errorCode();
        }
        finish(i, o);
    }

    void failed(int i, Failure why, String message, long doneNanos) {
        done[i] = doneNanos;
        failure[i] = (byte) why.ordinal();
        detail[i] = message;
        finish(i, Outcome.FAILED);
    }

    void notSent(int i) {
        finish(i, Outcome.NOT_SENT);
    }

    private void finish(int i, Outcome o) {
        if (outcome[i] != 0) {
            throw new IllegalStateException("invocation " + i + " ended twice: " + outcome(i) + ", then " + o);
        }
        outcome[i] = (byte) o.ordinal();
        finished.incrementAndGet();
    }
}
