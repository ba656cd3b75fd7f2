package dev.thaw.memory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The QEMU preload library that backs guest RAM by userfaultfd ({@code src/main/c/thaw-uffd.c},
 * shipped in the jar as a resource), compiled on first use with the host's gcc and cached under
 * {@code <cache>/uffd/<hash>/thaw-uffd.so}, keyed by 16 hex digits of the source's SHA-256 — the
 * way guest images are cached by recipe. A fresh machine (or CI running {@code ./thaw test})
 * therefore gets it without a build step of its own; {@code ./thaw} installs gcc and libc6-dev.
 * Built into a temporary name and renamed, so concurrent daemons never load a half-written file.
 */
public final class UffdPreload {
    static final String RESOURCE = "/c/thaw-uffd.c";
    private static final ConcurrentHashMap<Path, Path> BUILT = new ConcurrentHashMap<>();

    private UffdPreload() {}

    /** The library for this source, built now if {@code cacheDir} does not hold it yet. */
    public static Path get(Path cacheDir) {
        return BUILT.computeIfAbsent(cacheDir.toAbsolutePath(), UffdPreload::build);
    }

    private static Path build(Path cacheDir) {
        try {
            byte[] source = source();
            Path dir = cacheDir.resolve("uffd").resolve(key(source));
            Path lib = dir.resolve("thaw-uffd.so");
            if (Files.isRegularFile(lib)) {
                // Built by an earlier thaw that left it 0711: a jailed QEMU (another user) must read it.
                Files.setPosixFilePermissions(lib, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                return lib;
            }
            Files.createDirectories(dir);
            Path src = dir.resolve("thaw-uffd.c");
            Files.write(src, source);
            Path tmp = Files.createTempFile(dir, "thaw-uffd", ".so.tmp");
            Path out = dir.resolve("gcc.log");
            Process gcc;
            try {
                gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", tmp.toString(), src.toString(), "-ldl")
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            } catch (IOException e) {
                throw new IOException("cannot run gcc to build the userfaultfd preload library (apt-get install gcc libc6-dev): " + e.getMessage(), e);
            }
            if (!gcc.waitFor(120, TimeUnit.SECONDS)) {
                gcc.destroyForcibly();
                throw new IOException("gcc did not build " + src + " within 120 s");
            }
            if (gcc.exitValue() != 0) {
                throw new IOException("gcc failed to build " + src + " (status " + gcc.exitValue() + "): "
                        + Files.readString(out, StandardCharsets.UTF_8).strip());
            }
            // createTempFile made it 0600: a jailed QEMU runs as another user and must read the library.
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return lib;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while building the userfaultfd preload library"));
        }
    }

    static byte[] source() throws IOException {
        try (InputStream in = UffdPreload.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IOException("the jar lacks " + RESOURCE);
            return in.readAllBytes();
        }
    }

    static String key(byte[] source) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(source)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
