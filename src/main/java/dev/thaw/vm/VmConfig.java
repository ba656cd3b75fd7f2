package dev.thaw.vm;

import dev.thaw.guest.GuestImage;

import java.nio.file.Path;

/**
 * Everything that defines a VM's device model. A snapshot can only be restored into a VM with
 * the same image, memory size, vCPU count, machine and accelerator, so this record (minus the
 * per-instance paths) is stored in every snapshot manifest.
 *
 * @param memoryFile guest RAM file; {@code null} for anonymous RAM (cold boots that are never snapshotted)
 * @param sharedMemory true to write guest RAM through to the file (boot for a snapshot);
 *                     false for a private copy-on-write mapping (restores: the file stays pristine)
 * @param incomingState vmstate to restore from, or {@code null} to boot the kernel
 * @param hugePageAdvice whether QEMU's MADV_HUGEPAGE over guest RAM takes effect (host-side
 *                       paging only; not part of the device model)
 */
public record VmConfig(GuestImage image, int memoryMib, int vcpus, Accel accel,
                       Path memoryFile, boolean sharedMemory, Path incomingState, HugePageAdvice hugePageAdvice) {

    public VmConfig {
        if (hugePageAdvice == null) hugePageAdvice = HugePageAdvice.DROP;
    }

    public static VmConfig boot(GuestImage image, int memoryMib, int vcpus, Accel accel, Path memoryFile) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, memoryFile != null, null, null);
    }

    public static VmConfig restore(GuestImage image, int memoryMib, int vcpus, Accel accel,
                                   Path memoryFile, Path vmstate) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, false, vmstate, null);
    }

    public VmConfig withHugePageAdvice(HugePageAdvice advice) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, sharedMemory, incomingState, advice);
    }

    public boolean restoring() {
        return incomingState != null;
    }
}
