package dev.thaw.sys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The little C thaw ships in its jar (the VMM's jailer and read-only shim, the userfaultfd
 * preload), compiled on first use with the host's {@code cc} — {@code ./thaw} installs gcc and
 * libc6-dev — and cached as {@code <dir>/<name>-<16 hex of the source's SHA-256>[.so]}, the way
 * guest images are cached by recipe: a fresh machine needs no build step of its own, and a
 * changed source gets a new file. Compiled under a temporary name, made {@code 0755} (a jailed
 * QEMU runs as another user and must map the libraries) and renamed, so concurrent daemons never
 * load a half-written file.
 */
public final class HostCompiler {
    private HostCompiler() {}

    /** The compiled {@code resource} (a C file in the jar), built now if {@code dir} does not hold it yet. */
    public static Path build(String resource, Path dir, String name, boolean sharedLibrary) throws IOException {
        byte[] source;
        try (InputStream in = HostCompiler.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("the jar lacks " + resource);
            source = in.readAllBytes();
        }
        Path out = dir.resolve(name + "-" + key(source) + (sharedLibrary ? ".so" : ""));
        if (Files.isRegularFile(out)) return out;
        Files.createDirectories(dir);
        Path c = Files.createTempFile(dir, name, ".c");
        Path tmp = Files.createTempFile(dir, name, ".tmp");
        try {
            Files.write(c, source);
            List<String> cmd = new ArrayList<>(List.of("cc", "-O2", "-Wall", "-o", tmp.toString(), c.toString()));
            if (sharedLibrary) cmd.addAll(List.of("-shared", "-fPIC", "-ldl"));
            String output = run(cmd);
            if (Files.size(tmp) == 0) throw new IOException("cc did not build " + resource + ": " + output);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return out;
        } finally {
            Files.deleteIfExists(c);
            Files.deleteIfExists(tmp);
        }
    }

    /** 16 hex digits of the SHA-256 of {@code bytes}: the name of a cached build (or any derived file). */
    public static String key(byte[] source) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(source), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs cc; its output when it fails, with what to install when it cannot be run. */
    private static String run(List<String> cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run cc (apt-get install gcc libc6-dev): " + e.getMessage(), e);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("cc did not finish within 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running cc");
        }
        if (p.exitValue() != 0) throw new IOException("cc failed (status " + p.exitValue() + "): " + output);
        return output;
    }
}
