package dev.thaw.memory;

import dev.thaw.sys.Native;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A scratch directory for tests under target/ (a real disk file system, never tmpfs, so page
 * cache, holes and O_DIRECT behave as they do for snapshots), deleted on close.
 */
public final class Scratch implements AutoCloseable {
    public static final int PAGE = Native.PAGE_SIZE;

    private final Path dir;

    public Scratch() {
        try {
            Path root = Path.of("target", "test-scratch").toAbsolutePath();
            Files.createDirectories(root);
            dir = Files.createTempDirectory(root, "memory-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** A file of {@code pages} pages of pseudo-random bytes (no zero page in practice), fsynced. */
    public Path randomFile(String name, int pages, long seed) throws IOException {
        byte[] bytes = new byte[pages * PAGE];
        new SplittableRandom(seed).nextBytes(bytes);
        return write(name, bytes);
    }

    /** Writes {@code bytes} as a fully allocated file and fsyncs it. */
    public Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        return file;
    }

    public static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
