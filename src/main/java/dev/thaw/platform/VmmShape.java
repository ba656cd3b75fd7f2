package dev.thaw.platform;

import dev.thaw.guest.GuestImage;
import dev.thaw.snapshot.Manifest;
import dev.thaw.vm.Accel;

/**
 * The machine a pre-started VMM is made for: what a snapshot fixes about the VMM that restores
 * it (docs/design.md §6: image, memory size, vCPUs, accelerator; the device set is the same for
 * every thaw VM). A pooled VMM fits a snapshot exactly when their shapes are equal.
 */
record VmmShape(GuestImage image, int memoryMib, int vcpus, Accel accel) {
    VmmShape {
        if (memoryMib < 1 || vcpus < 1) throw new IllegalArgumentException("a VMM shape needs memory and vCPUs: " + memoryMib + " MiB, " + vcpus);
    }

    /** The shape that restores a snapshot with {@code machine}, taken with {@code image}. */
    static VmmShape of(GuestImage image, Manifest.Machine machine) {
        return new VmmShape(image, machine.memoryMib(), machine.vcpus(), Accel.valueOf(machine.accel().toUpperCase(java.util.Locale.ROOT)));
    }

    /** How /stats names it: {@code <image key>/<MiB>M/<vCPUs>cpu/<accel>}. */
    String id() {
        return image.key() + "/" + memoryMib + "M/" + vcpus + "cpu/" + accel.name().toLowerCase(java.util.Locale.ROOT);
    }
}
