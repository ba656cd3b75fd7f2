package dev.thaw.load;

/** How one scheduled invocation ended; every invocation ends in exactly one of these. */
enum Outcome {
    /** Not decided yet (only while the run is going). */
    PENDING,
    /** Answered with a 2xx status. */
    OK,
    /** Answered 429: the platform refused it (counted, not lost). */
    REJECTED,
    /** Answered with another status (4xx other than 429, 5xx, or anything unexpected). */
    HTTP_ERROR,
    /** No complete answer: connection refused, reset, timed out, malformed response. */
    FAILED,
    /** Never sent because the run was aborted first. */
    NOT_SENT;

    static final Outcome[] VALUES = values();
}
