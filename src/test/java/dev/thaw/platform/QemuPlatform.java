package dev.thaw.platform;

import dev.thaw.guest.GuestImage;
import dev.thaw.vm.Accel;
import dev.thaw.vm.GuestLimits;
import dev.thaw.vm.Jail;
import dev.thaw.vm.QemuGuest;

/** A platform on real QEMU guests, wired as {@code thaw serve} wires it (jail included), for the real-VM tests. */
public final class QemuPlatform {
    private QemuPlatform() {}

    public static Platform open(Platform.Config config, GuestImage image, Accel accel) {
        return open(config, image, accel, Jail.setUp(new Jail.Options(Jail.Mode.AUTO, config.cacheDir(), Jail.Options.DEFAULT_OVERHEAD_MIB)));
    }

    public static Platform open(Platform.Config config, GuestImage image, Accel accel, Jail jail) {
        return new Platform(config, image, new QemuGuest.Launcher(config.runDir(), accel, config.hugePageAdvice(), config.bootTimeout(),
                GuestLimits.DEFAULT, jail));
    }
}
