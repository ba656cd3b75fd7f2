package dev.thaw.common;

import java.nio.file.Path;

/**
 * Where thaw keeps things. Each can be moved with an environment variable.
 *
 * <ul>
 *   <li>cache ({@code THAW_CACHE_DIR}, default /var/cache/thaw): guest images, keyed by recipe;
 *       outside the checkout so a fresh clone and CI reuse them.</li>
 *   <li>data ({@code THAW_DATA_DIR}, default /var/lib/thaw): deployed functions and snapshots;
 *       survives daemon restarts.</li>
 *   <li>run ({@code THAW_RUN_DIR}, default /tmp/thaw): per-VM sockets and logs; short paths because
 *       Unix socket paths are limited to 107 bytes.</li>
 * </ul>
 */
public final class ThawDirs {
    private ThawDirs() {}

    public static Path cache() {
        return env("THAW_CACHE_DIR", "/var/cache/thaw");
    }

    public static Path data() {
        return env("THAW_DATA_DIR", "/var/lib/thaw");
    }

    public static Path run() {
        return env("THAW_RUN_DIR", "/tmp/thaw");
    }

    /** The checkout (or install) root: where the shipped example functions live. */
    public static Path home() {
        return env("THAW_HOME", System.getProperty("user.dir"));
    }

    private static Path env(String name, String fallback) {
        String v = System.getenv(name);
        return Path.of(v == null || v.isBlank() ? fallback : v).toAbsolutePath();
    }
}
