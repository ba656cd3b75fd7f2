package dev.thaw.platform;

import dev.thaw.common.FileTrees;
import dev.thaw.guest.GuestImage;
import dev.thaw.vm.FakeLauncher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A whole {@link Platform} on {@link FakeLauncher} guests and a {@link ManualTicker}: real
 * registry, invoker, instance manager, keeper and snapshots on disk (in a temporary directory),
 * no QEMU and no sleeping. The keeper's loop is off; tests call {@link Keeper#tick}.
 */
public final class FakePlatform implements AutoCloseable {
    public final Path root;
    final ManualTicker ticker = new ManualTicker();
    public final FakeLauncher launcher = new FakeLauncher(ticker::advance);
    public final GuestImage image;
    public final Platform platform;

    public FakePlatform() {
        this(new Limits(8, 4096, 2, 4, Duration.ofSeconds(5)));
    }

    public FakePlatform(Limits limits) {
        this(limits, Duration.ofSeconds(60), 4);
    }

    public FakePlatform(Limits limits, Duration idleTimeout, int maxIdle) {
        this(limits, idleTimeout, maxIdle, null);
    }

    /** @param scaling dispatch, autoscaler and keep-alive settings; null for the defaults */
    public FakePlatform(Limits limits, Duration idleTimeout, int maxIdle, Scaling scaling) {
        try {
            root = Files.createTempDirectory("thaw-fake-");
            Path img = Files.createDirectories(root.resolve("cache/images/fake"));
            for (String f : new String[]{"vmlinuz", "initrd.img", "rootfs.ext4"}) Files.write(img.resolve(f), new byte[4096]);
            Files.writeString(img.resolve("kernel.release"), "6.1.0-fake\n");
            image = new GuestImage("fake", img, "6.1.0-fake");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Platform.Config config = new Platform.Config(root.resolve("data"), root.resolve("run"), root.resolve("cache"),
                Duration.ofSeconds(60), maxIdle, idleTimeout, limits, Duration.ofMinutes(10), 100, null, 4, null);
        platform = new Platform(config, image, launcher, scaling, ticker, false);
    }

    /** Deploys a function named {@code name} (echo handler; the fake guest does what events say). */
    public FunctionInfo deploy(String name) {
        return deploy(name, "{\"name\": \"" + name + "\", \"memory_mib\": 256, \"record\": false}");
    }

    public FunctionInfo deploy(String name, String functionJson) {
        return platform.deploy(FunctionBundle.fromDirectory(functionDir(name, functionJson)));
    }

    /** A function directory as a user would write it, for deploy-by-path and tar uploads. */
    public Path functionDir(String name, String functionJson) {
        try {
            Path dir = Files.createDirectories(root.resolve("src").resolve(name));
            Files.writeString(dir.resolve("function.json"), functionJson);
            Files.writeString(dir.resolve("handler.py"), "def handle(event):\n    return event\n");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Moves the platform's clock, e.g. past the idle timeout, and runs the keeper once. */
    public void advanceAndKeep(Duration d) {
        ticker.advance(d);
        platform.keeper().tick(ticker.nanoTime());
    }

    @Override
    public void close() {
        platform.close();
        FileTrees.delete(root);
    }
}
