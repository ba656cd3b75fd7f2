package dev.thaw.vm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jailed command line, built from a {@link Jail.Plan} without touching the host. */
class JailTest {
    static final Path JAILER = Path.of("/c/jail/jailer-1");
    static final Path LIB = Path.of("/c/jail/readonly-open-1.so");

    static Jail.Plan restore() {
        return new Jail.Plan(JAILER, 999, 995, List.of(), Path.of("/c/jail/root"),
                List.of(Path.of("/sys/fs/cgroup/memory/thaw-vms/1-i/cgroup.procs")),
                List.of(Path.of("/img/vmlinuz"), Path.of("/d/snapshot/memory"), Path.of("/d/snapshot/vmstate")),
                List.of(Path.of("/run/i")), Jail.DEVICES, List.of(LIB), List.of(Path.of("/d/snapshot/memory")));
    }

    static String valueAfter(List<String> cmd, String option, String value) {
        for (int i = 0; i + 1 < cmd.size(); i++) if (cmd.get(i).equals(option) && cmd.get(i + 1).equals(value)) return value;
        return null;
    }

    @Test
    void qemuRunsBehindTheJailerWithItsArgvUntouched() {
        List<String> qemu = List.of("qemu-system-x86_64", "-M", "microvm", "-sandbox", "on");
        List<String> cmd = Jail.argv(restore(), qemu);
        assertEquals(JAILER.toString(), cmd.getFirst());
        int sep = cmd.indexOf("--");
        assertEquals(qemu, cmd.subList(sep + 1, cmd.size()));
        assertEquals("999", cmd.get(cmd.indexOf("--uid") + 1));
        assertEquals("995", cmd.get(cmd.indexOf("--gid") + 1));
        assertEquals("/c/jail/root", cmd.get(cmd.indexOf("--root") + 1));
        assertEquals("/sys/fs/cgroup/memory/thaw-vms/1-i/cgroup.procs", cmd.get(cmd.indexOf("--cgroup") + 1));
        assertTrue(!cmd.contains("--group"), "no supplementary groups without KVM");
    }

    @Test
    void snapshotFilesAreReadOnlyAndOpenedReadOnlyAndOnlyTheRunDirectoryIsWritable() {
        List<String> cmd = Jail.argv(restore(), List.of("qemu"));
        for (String ro : List.of("/usr", "/etc/ld.so.cache", "/img/vmlinuz", "/d/snapshot/memory", "/d/snapshot/vmstate", LIB.toString())) {
            assertEquals(ro, valueAfter(cmd, "--ro", ro), ro + " read-only in " + cmd);
        }
        assertEquals(List.of("/run/i"), values(cmd, "--rw"));
        assertEquals(Jail.DEVICES, values(cmd, "--dev"));
        assertTrue(cmd.contains("THAW_READONLY_FILES=/d/snapshot/memory"), cmd.toString());
        assertTrue(cmd.contains("LD_PRELOAD=" + LIB), cmd.toString());
    }

    @Test
    void kvmAddsItsGroup() {
        Jail.Plan p = restore();
        Jail.Plan kvm = new Jail.Plan(p.jailer(), p.uid(), p.gid(), List.of(104), p.rootMount(), p.cgroupProcs(), p.readOnly(),
                p.writable(), List.of("/dev/null", "/dev/kvm"), p.preloads(), p.readOnlyOpens());
        List<String> cmd = Jail.argv(kvm, List.of("qemu"));
        assertEquals("104", cmd.get(cmd.indexOf("--group") + 1));
        assertEquals(List.of("/dev/null", "/dev/kvm"), values(cmd, "--dev"));
    }

    @Test
    void limitsComeFromTheVmsSize() {
        Jail off = Jail.off("test");
        Cgroups.Limits l = off.limits(256, 2);
        assertEquals(256L << 20, l.memoryBytes(), "an off jail has no overhead configured");
        assertEquals(300_000, l.cpuQuotaUs(), "vCPUs plus one core for QEMU's own threads");
        assertEquals(264, l.maxTasks());
    }

    @Test
    void modesParseStrictly() {
        assertEquals(Jail.Mode.AUTO, Jail.Mode.parse("auto"));
        assertEquals(Jail.Mode.ON, Jail.Mode.parse("ON"));
        assertThrows(IllegalArgumentException.class, () -> Jail.Mode.parse("yes"));
        assertEquals("off", Jail.setUp(new Jail.Options(Jail.Mode.OFF, Path.of("/nonexistent"), 0)).status());
        assertEquals("off: test", Jail.off("test").status());
    }

    static List<String> values(List<String> cmd, String option) {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i + 1 < cmd.size() && !cmd.get(i).equals("--"); i++) if (cmd.get(i).equals(option)) out.add(cmd.get(++i));
        return out;
    }

    @Test
    void aDeployDirectoryComesBackWithItsFilesAndWithoutWhatTheVmPlanted(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path secret = java.nio.file.Files.writeString(dir.resolveSibling(dir.getFileName() + "-secret"), "host file");
        Path snap = java.nio.file.Files.createDirectory(dir.resolve("snapshot"));
        Path memory = java.nio.file.Files.writeString(snap.resolve("memory"), "ram");
        java.nio.file.Files.setPosixFilePermissions(memory, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
        java.nio.file.Files.createSymbolicLink(snap.resolve("vmstate"), secret);
        java.nio.file.Files.createDirectory(snap.resolve("sub"));
        Jail.reclaim(snap);
        assertTrue(java.nio.file.Files.exists(memory));
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(memory)));
        assertTrue(!java.nio.file.Files.exists(snap.resolve("vmstate"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "the link is gone");
        assertTrue(!java.nio.file.Files.exists(snap.resolve("sub")));
        assertEquals("host file", java.nio.file.Files.readString(secret), "its target is untouched");
        java.nio.file.Files.delete(secret);
    }
}
