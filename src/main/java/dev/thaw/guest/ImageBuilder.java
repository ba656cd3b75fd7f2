package dev.thaw.guest;

import dev.thaw.common.FileTrees;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Builds the guest image from the recipe shipped in the jar ({@code /guest/*}) and caches it
 * under a key derived from the recipe's bytes: any change to the script, the package list or
 * the agent yields a new key and so a rebuild; an unchanged recipe is never rebuilt.
 *
 * <p>A build runs into a temporary directory beside the cache entry and is renamed into place
 * only when complete, so an interrupted build leaves nothing that looks like an image. A file
 * lock serialises concurrent builders (two daemons, or the tests and the demo).
 */
public final class ImageBuilder {
    static final List<String> RECIPE = List.of(
            "build-image.sh", "packages.txt", "initrd-init.sh", "thaw-init.sh", "agent.py", "thaw.py");

    private final Path cacheDir;

    public ImageBuilder(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    /** The recipe's key: 16 hex digits of SHA-256 over every recipe file's name and bytes. */
    public static String recipeKey() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String name : RECIPE) {
                sha.update(name.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(resource(name));
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path imageDir() {
        return cacheDir.resolve("images").resolve(recipeKey());
    }

    /** The cached image if it is already built, else null. */
    public GuestImage existing() {
        Path dir = imageDir();
        return Files.isRegularFile(dir.resolve("rootfs.ext4")) ? open(dir) : null;
    }

    /** Returns the image, building it first if needed; progress lines go to {@code progress}. */
    public GuestImage ensure(Consumer<String> progress) {
        GuestImage img = existing();
        if (img != null) return img;
        try {
            Files.createDirectories(cacheDir.resolve("images"));
            try (FileChannel lockFile = FileChannel.open(cacheDir.resolve("images/.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                img = existing(); // someone else may have built it while we waited
                if (img != null) return img;
                build(progress);
                return open(imageDir());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("guest image build failed: " + e.getMessage(), e);
        }
    }

    private void build(Consumer<String> progress) throws IOException {
        Path target = imageDir();
        Path recipe = Files.createTempDirectory(cacheDir.resolve("images"), "recipe-");
        Path out = Files.createTempDirectory(cacheDir.resolve("images"), "building-");
        try {
            for (String name : RECIPE) Files.write(recipe.resolve(name), resource(name));
            progress.accept("building guest image " + target.getFileName() + " (once per recipe; cached in " + cacheDir + ")");
            long t0 = System.nanoTime();
            ProcessBuilder pb = new ProcessBuilder("bash", recipe.resolve("build-image.sh").toString(), out.toString())
                    .redirectErrorStream(true);
            pb.environment().put("THAW_BASE_CACHE", cacheDir.resolve("base").toString());
            Process p = pb.start();
            Deque<String> tail = new ArrayDeque<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("step: ")) progress.accept("  image: " + line.substring(6));
                    tail.addLast(line);
                    if (tail.size() > 40) tail.removeFirst();
                }
            }
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IOException("build-image.sh exited with " + rc + ":\n  " + String.join("\n  ", tail));
            }
            Files.move(out, target, StandardCopyOption.ATOMIC_MOVE);
            progress.accept(String.format("  image: built in %.0f s", (System.nanoTime() - t0) / 1e9));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            FileTrees.delete(out);
            FileTrees.delete(recipe);
        }
    }

    private static GuestImage open(Path dir) {
        try {
            return new GuestImage(dir.getFileName().toString(), dir, Files.readString(dir.resolve("kernel.release")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] resource(String name) {
        try (InputStream in = ImageBuilder.class.getResourceAsStream("/guest/" + name)) {
            if (in == null) throw new IllegalStateException("guest recipe file missing from the jar: " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
