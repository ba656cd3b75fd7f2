package dev.thaw.guest;

import java.nio.file.Path;

/** A built guest image: Debian kernel, initramfs, and the read-only root filesystem. */
public record GuestImage(String key, Path dir, String kernelRelease) {
    public Path kernel() {
        return dir.resolve("vmlinuz");
    }

    public Path initrd() {
        return dir.resolve("initrd.img");
    }

    public Path rootfs() {
        return dir.resolve("rootfs.ext4");
    }
}
