package dev.thaw.vm;

/** How QEMU executes guest code. */
public enum Accel {
    /** Software emulation: works everywhere, the default on these machines. */
    TCG,
    /** Hardware virtualisation: used only where a probe showed a guest actually boots. */
    KVM;

    String qemuName() {
        return name().toLowerCase();
    }
}
