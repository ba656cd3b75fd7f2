package dev.thaw.memory;

import dev.thaw.sys.HostCompiler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The QEMU preload library that backs guest RAM by userfaultfd ({@code src/main/c/thaw-uffd.c},
 * shipped in the jar as a resource), compiled once per cache directory by {@link HostCompiler}
 * into {@code <cache>/uffd/} and remembered for the daemon's life.
 */
public final class UffdPreload {
    static final String RESOURCE = "/c/thaw-uffd.c";
    private static final ConcurrentHashMap<Path, Path> BUILT = new ConcurrentHashMap<>();

    private UffdPreload() {}

    /** The library for this source, built now if {@code cacheDir} does not hold it yet. */
    public static Path get(Path cacheDir) {
        return BUILT.computeIfAbsent(cacheDir.toAbsolutePath(), dir -> {
            try {
                return HostCompiler.build(RESOURCE, dir.resolve("uffd"), "thaw-uffd", true);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot build the userfaultfd preload library: " + e.getMessage(), e);
            }
        });
    }
}
