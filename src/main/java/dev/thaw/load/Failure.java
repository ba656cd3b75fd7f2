package dev.thaw.load;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/** Why an invocation got no complete answer (the reason column of a FAILED outcome). */
enum Failure {
    NONE("none"),
    REFUSED("connection_refused"),
    CONNECT_TIMEOUT("connect_timeout"),
    TIMEOUT("timeout"),
    RESET("connection_reset"),
    CLOSED("connection_closed"),
    PROTOCOL("protocol_error"),
    ABORTED("aborted"),
    OTHER("io_error");

    static final Failure[] VALUES = values();
    final String label;

    Failure(String label) {
        this.label = label;
    }

    /** Classifies an I/O failure; {@code connecting} tells whether it happened while connecting. */
    static Failure of(Exception e, boolean connecting, boolean aborted) {
        if (aborted) {
            return ABORTED;
        }
        if (e instanceof SocketTimeoutException) {
            return connecting ? CONNECT_TIMEOUT : TIMEOUT;
        }
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
            return REFUSED;
        }
        if (e instanceof ResponseParser.ProtocolException) {
            return PROTOCOL;
        }
        if (e instanceof EOFException) {
            return CLOSED;
        }
        if (e instanceof SocketException) {
            String m = String.valueOf(e.getMessage()).toLowerCase();
            if (m.contains("reset") || m.contains("broken pipe")) {
                return RESET;
            }
            if (m.contains("refused")) {
                return REFUSED;
            }
            if (m.contains("closed")) {
                return CLOSED;
            }
        }
        return OTHER;
    }
}
