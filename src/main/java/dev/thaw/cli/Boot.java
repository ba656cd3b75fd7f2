package dev.thaw.cli;

import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import dev.thaw.platform.Platform;
import dev.thaw.vm.Accel;
import dev.thaw.vm.AccelProbe;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** Options shared by every command that runs VMs, and the start-up sequence they share. */
public final class Boot {
    @Option(names = "--data-dir", description = "Deployed functions and snapshots (default: $THAW_DATA_DIR or /var/lib/thaw).")
    public Path dataDir;

    @Option(names = "--accel", defaultValue = "auto",
            description = "VM accelerator: auto (KVM only where a guest is proven to boot under it), tcg or kvm. Default: ${DEFAULT-VALUE}.")
    String accel;

    @Option(names = "--idle-timeout", defaultValue = "60", description = "Seconds an idle instance is kept warm. Default: ${DEFAULT-VALUE}.")
    int idleTimeoutSeconds;

    @Option(names = "--max-idle", defaultValue = "4", description = "Idle instances kept per function. Default: ${DEFAULT-VALUE}.")
    int maxIdle;

    /** Builds the image if needed, chooses the accelerator, and opens the platform. */
    public Platform start() {
        Path cache = ThawDirs.cache();
        GuestImage image = new ImageBuilder(cache).ensure(Boot::progress);
        Path run = ThawDirs.run().resolve(Long.toString(ProcessHandle.current().pid()));
        Accel a = switch (accel.toLowerCase()) {
            case "tcg" -> Accel.TCG;
            case "kvm" -> Accel.KVM;
            case "auto" -> AccelProbe.choose(image, cache, run, Boot::progress);
            default -> throw new IllegalArgumentException("--accel must be auto, tcg or kvm, got " + accel);
        };
        Path data = dataDir != null ? dataDir.toAbsolutePath() : ThawDirs.data();
        Platform.Config cfg = new Platform.Config(data, run, cache, Duration.ofSeconds(60), maxIdle, Duration.ofSeconds(idleTimeoutSeconds));
        Platform p = new Platform(cfg, image, a);
        Runtime.getRuntime().addShutdownHook(new Thread(p::close, "thaw-shutdown"));
        return p;
    }

    public static void progress(String line) {
        System.err.println("[thaw] " + line);
    }
}
