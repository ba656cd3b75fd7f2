package dev.thaw.load;

/** A workload file or trace that cannot be used; the message names the file, the field and the problem. */
public final class WorkloadException extends RuntimeException {
    WorkloadException(String message) {
        super(message);
    }

    WorkloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
