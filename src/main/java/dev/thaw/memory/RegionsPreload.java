package dev.thaw.memory;

import dev.thaw.sys.HostCompiler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The QEMU preload library that lays guest memory out per region ({@code src/main/c/thaw-regions.c},
 * shipped in the jar), compiled once per cache directory by {@link HostCompiler} into
 * {@code <cache>/regions/} and remembered for the daemon's life, like {@link UffdPreload}.
 */
public final class RegionsPreload {
    static final String RESOURCE = "/c/thaw-regions.c";
    private static final ConcurrentHashMap<Path, Path> BUILT = new ConcurrentHashMap<>();

    private RegionsPreload() {}

    /** The library for this source, built now if {@code cacheDir} does not hold it yet. */
    public static Path get(Path cacheDir) {
        return BUILT.computeIfAbsent(cacheDir.toAbsolutePath(), dir -> {
            try {
                return HostCompiler.build(RESOURCE, dir.resolve("regions"), "thaw-regions", true);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot build the per-region mapping preload library: " + e.getMessage(), e);
            }
        });
    }
}
