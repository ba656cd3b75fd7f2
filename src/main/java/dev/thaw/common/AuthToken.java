package dev.thaw.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The daemon's API token: a secret in a file that the daemon ({@code thaw serve
 * --auth-token-file FILE}) and its clients (the CLI, bench, load and flow, through the
 * {@code THAW_AUTH_TOKEN_FILE} environment variable) read alike. Clients send it as
 * {@code Authorization: Bearer <token>}. Strict: a token file that is empty, shorter than 16
 * characters or has more than one line is an error naming the file, never a silent "no auth".
 */
public record AuthToken(String value) {
    /** The environment variable that names the token file for clients. */
    public static final String ENV = "THAW_AUTH_TOKEN_FILE";
    static final int MIN_LENGTH = 16;

    public AuthToken {
        if (value == null || value.length() < MIN_LENGTH || value.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new IllegalArgumentException("an API token must be at least " + MIN_LENGTH
                    + " printable characters without spaces");
        }
    }

    /** Reads a token file (one line; a trailing newline is fine). */
    public static AuthToken read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the API token file " + file + ": " + e.getMessage(), e);
        }
        String line = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        if (line.isBlank()) throw new IllegalArgumentException("the API token file " + file + " is empty");
        if (line.contains("\n")) throw new IllegalArgumentException("the API token file " + file + " must hold one line");
        try {
            return new AuthToken(line.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The token clients use: the file {@code $THAW_AUTH_TOKEN_FILE} names, if it is set. */
    public static Optional<AuthToken> fromEnvironment() {
        String file = System.getenv(ENV);
        return file == null || file.isBlank() ? Optional.empty() : Optional.of(read(Path.of(file)));
    }

    /** The header value clients send. */
    public String bearer() {
        return "Bearer " + value;
    }

    /** Whether an {@code Authorization} header carries this token; compares in constant time. */
    public boolean admits(String authorizationHeader) {
        if (authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) return false;
        byte[] sent = authorizationHeader.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(sent, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "AuthToken[hidden]";
    }
}
