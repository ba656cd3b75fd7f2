package dev.thaw.vm;

/**
 * Makes {@link Guest}s: boots a VM from the guest image, or starts one that will be restored from
 * a snapshot ({@link VmConfig#restoring()}). The only way the platform gets a VM, so every VM a
 * deploy, a working-set record or an invocation starts goes through the same door.
 */
public interface GuestLauncher {
    /**
     * Starts a guest for {@code config}. A boot returns it running; a restore returns it paused,
     * before {@link Guest#loadState}. Calls the guest makes to other functions go to {@code calls}.
     *
     * @param id the instance id (names its run directory and logs)
     */
    Guest launch(VmConfig config, String id, CallHandler calls);

    /** The accelerator new VMs boot with. */
    Accel accel();

    /** How the VMMs are confined, for /healthz: {@code on (…)}, {@code off} or {@code off: why} (see {@link Jail}). */
    default String vmmJail() {
        return "off";
    }
}
