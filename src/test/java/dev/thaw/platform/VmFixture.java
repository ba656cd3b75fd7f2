package dev.thaw.platform;

import dev.thaw.common.FileTrees;
import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import dev.thaw.vm.Accel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A real platform over a temporary data directory, for integration tests that boot VMs. */
public final class VmFixture implements AutoCloseable {
    public final Path dataDir;
    public final Path runDir;
    public final GuestImage image;
    public Platform platform;

    private final Limits limits;

    public VmFixture() throws IOException {
        this(null);
    }

    public VmFixture(Limits limits) throws IOException {
        this.limits = limits;
        this.dataDir = Files.createTempDirectory(Path.of("/var/tmp"), "thaw-it-data-");
        this.runDir = Files.createTempDirectory(Path.of("/tmp"), "thaw-it-");
        this.image = new ImageBuilder(ThawDirs.cache()).ensure(System.err::println);
        this.platform = open();
    }

    public Platform open() {
        return QemuPlatform.open(new Platform.Config(dataDir, runDir, ThawDirs.cache(), Duration.ofSeconds(60), 4,
                Duration.ofSeconds(60), limits, null), image, Accel.TCG);
    }

    /** Simulates a daemon restart over the same data directory. */
    public Platform restart() {
        platform.close();
        platform = open();
        return platform;
    }

    public static Path exampleFunction(String name) {
        Path repo = Path.of(System.getProperty("user.dir"));
        Path p = repo.resolve("functions").resolve(name);
        return Files.isDirectory(p) ? p : repo.resolve("src/test/resources/functions").resolve(name);
    }

    @Override
    public void close() {
        platform.close();
        FileTrees.delete(dataDir);
        FileTrees.delete(runDir);
    }
}
