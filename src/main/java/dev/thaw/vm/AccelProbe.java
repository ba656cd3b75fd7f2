package dev.thaw.vm;

import dev.thaw.common.FileTrees;
import dev.thaw.guest.GuestImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Chooses the accelerator. {@code /dev/kvm} existing proves little: on these hosts KVM is nested
 * and a stock Debian guest hangs during boot under it (docs/design.md §4). So KVM is chosen only when
 * a real guest boots to its agent under KVM within a few seconds. The verdict is cached per host
 * kernel, QEMU build and guest image, so the probe's cost is paid once.
 */
public final class AccelProbe {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(15);

    private AccelProbe() {}

    public static Accel choose(GuestImage image, Path cacheDir, Path runDir, Consumer<String> progress) {
        if (!Files.isReadable(Path.of("/dev/kvm")) || !Files.isWritable(Path.of("/dev/kvm"))) return Accel.TCG;
        Path verdict = cacheDir.resolve("accel-probe").resolve(
                (HostInfo.kernel() + "-" + qemuVersion() + "-" + image.key()).replaceAll("[^A-Za-z0-9._-]", "_"));
        try {
            if (Files.exists(verdict)) return Accel.valueOf(Files.readString(verdict).strip());
            progress.accept("probing whether a guest boots under KVM (once per host and image; up to "
                    + PROBE_TIMEOUT.toSeconds() + " s)");
            Accel a = bootsUnderKvm(image, runDir) ? Accel.KVM : Accel.TCG;
            progress.accept("  accelerator: " + a.name().toLowerCase()
                    + (a == Accel.TCG ? " (KVM is present but a guest does not boot under it)" : ""));
            Files.createDirectories(verdict.getParent());
            Files.writeString(verdict, a.name());
            return a;
        } catch (IOException e) {
            return Accel.TCG;
        }
    }

    private static boolean bootsUnderKvm(GuestImage image, Path runDir) throws IOException {
        Path dir = Files.createDirectories(runDir.resolve("kvm-probe-" + ProcessHandle.current().pid()));
        try (Guest vm = QemuGuest.start("kvm-probe", VmConfig.boot(image, 256, 1, Accel.KVM, null), dir, PROBE_TIMEOUT,
                CallHandler.NONE, GuestLimits.DEFAULT, Jail.off(null))) {
            vm.awaitReady(PROBE_TIMEOUT);
            return true;
        } catch (VmException e) {
            return false;
        } finally {
            FileTrees.delete(dir);
        }
    }

    static String qemuVersion() {
        try {
            Process p = new ProcessBuilder("qemu-system-x86_64", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return out.lines().findFirst().orElse("unknown").replaceAll(".*version ", "").split(" ")[0];
        } catch (IOException e) {
            return "missing";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
