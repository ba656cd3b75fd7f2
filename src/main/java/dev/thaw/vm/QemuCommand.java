package dev.thaw.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's command line for one {@link QemuGuest}: a microvm with its RAM in a memory backend
 * (a file thaw maps shared on boot and private on restore, see docs/design.md §4), the image's
 * kernel, initrd and read-only root disk, and three sockets to thaw (QMP, the descriptor-passing
 * QMP monitor, the agent's virtio-serial port), all of which QEMU connects to as a client. A
 * restore adds {@code -S -incoming defer}: QEMU waits, paused, for the state thaw hands it.
 *
 * <p>Apart from {@link QemuGuest} so that the start-up sequence and the flags read on their own;
 * the flags are the one part of a VM's start that tests can check without QEMU.
 */
final class QemuCommand {
    private static final String QEMU = "qemu-system-x86_64";

    private QemuCommand() {
    }

    /** QEMU's command line, unjailed: {@code setpriv --pdeathsig KILL --} and QEMU's argv (a {@link Jail.Cell} wraps the latter). */
    static List<String> argv(VmConfig c, Path runDir) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--", QEMU,
                "-M", "microvm,pic=off,memory-backend=mem",
                "-accel", c.accel().qemuName(),
                "-cpu", c.accel() == Accel.KVM ? "host" : "max",
                "-smp", Integer.toString(c.vcpus()),
                "-m", c.memoryMib() + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                // QEMU's own seccomp filter, as strict as thaw's use allows: the device state moves
                // through descriptors thaw opens and passes (FdMonitor), so QEMU never spawns a process.
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny,spawn=deny"));
        String size = c.memoryMib() + "M";
        cmd.add("-object");
        cmd.add(c.memoryFile() == null
                ? "memory-backend-ram,id=mem,size=" + size
                : "memory-backend-file,id=mem,size=" + size + ",mem-path=" + c.memoryFile()
                  + ",share=" + (c.sharedMemory() ? "on" : "off"));
        cmd.addAll(List.of(
                "-kernel", c.image().kernel().toString(),
                "-initrd", c.image().initrd().toString(),
                "-append", "console=ttyS0 root=/dev/vda ro quiet panic=-1 tsc=reliable tsc_early_khz=" + HostInfo.tscKhz(),
                "-serial", "file:" + runDir.resolve("console.log"),
                "-drive", "id=root,file=" + c.image().rootfs() + ",format=raw,if=none,readonly=on",
                "-device", "virtio-blk-device,drive=root",
                "-device", "virtio-serial-device",
                "-chardev", "socket,id=agent,path=" + runDir.resolve("agent.sock"),
                "-device", "virtserialport,chardev=agent,name=thaw.agent",
                "-chardev", "socket,id=qmp,path=" + runDir.resolve("qmp.sock"),
                "-mon", "chardev=qmp,mode=control",
                "-chardev", "socket,id=qmpfd,path=" + runDir.resolve(QemuGuest.FD_SOCKET),
                "-mon", "chardev=qmpfd,mode=control"));
        if (c.restoring()) cmd.addAll(List.of("-S", "-incoming", "defer"));
        return cmd;
    }
}
