package dev.thaw.vm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cgroup detection and per-VM groups against fake cgroup trees in a temporary directory. */
class CgroupsTest {
    @TempDir
    Path root;

    static final String HYBRID_SELF = """
            9:name=systemd:/
            8:pids:/
            4:memory:/process_api/abc
            2:cpuacct:/
            1:cpu:/
            0::/
            """;

    void v1(String... controllers) throws Exception {
        for (String c : controllers) {
            Files.createDirectories(root.resolve(c));
            Files.writeString(root.resolve(c).resolve("cgroup.procs"), "");
        }
        Files.createDirectories(root.resolve("unified")); // a hybrid host's empty v2 mount
    }

    @Test
    void aHybridHostUsesV1UnderTheDaemonsOwnGroups() throws Exception {
        v1("memory", "cpu", "cpuacct", "pids");
        Cgroups cg = Cgroups.detect(root, HYBRID_SELF);
        assertEquals(1, cg.version());
        assertEquals(root.resolve("memory/process_api/abc/thaw-vms"), cg.parents().get("memory"));
        assertEquals(root.resolve("cpu/thaw-vms"), cg.parents().get("cpu"));
        assertEquals(root.resolve("pids/thaw-vms"), cg.parents().get("pids"));
    }

    @Test
    void combinedCpuControllersAreFound() throws Exception {
        v1("memory", "cpu", "pids");
        Cgroups cg = Cgroups.detect(root, "3:cpu,cpuacct:/svc\n4:memory:/\n5:pids:/\n");
        assertEquals(root.resolve("cpu/svc/thaw-vms"), cg.parents().get("cpu"));
        assertEquals(root.resolve("memory/thaw-vms"), cg.parents().get("memory"));
    }

    @Test
    void v1WritesMemoryCpuAndTaskLimitsPerController() throws Exception {
        v1("memory", "cpu", "pids");
        Cgroups cg = Cgroups.detect(root, HYBRID_SELF);
        List<Path> dirs = cg.create("42-i-1", new Cgroups.Limits(300L << 20, 200_000, 260));
        assertEquals(3, dirs.size());
        assertEquals(Long.toString(300L << 20), Files.readString(root.resolve("memory/process_api/abc/thaw-vms/42-i-1/memory.limit_in_bytes")));
        assertEquals("200000", Files.readString(root.resolve("cpu/thaw-vms/42-i-1/cpu.cfs_quota_us")));
        assertEquals("100000", Files.readString(root.resolve("cpu/thaw-vms/42-i-1/cpu.cfs_period_us")));
        assertEquals("2048", Files.readString(root.resolve("cpu/thaw-vms/42-i-1/cpu.shares")), "one default task per core it may use");
        assertEquals(Long.toString(2048L * Runtime.getRuntime().availableProcessors()),
                Files.readString(root.resolve("cpu/thaw-vms/cpu.shares")), "the VMs together: two default tasks per host core");
        assertEquals("260", Files.readString(root.resolve("pids/thaw-vms/42-i-1/pids.max")));
        assertEquals(root.resolve("pids/thaw-vms/42-i-1/cgroup.procs"), Cgroups.procsFiles(dirs).get(2));
    }

    @Test
    void aPureV2HostUsesOneGroupWithDelegatedControllers() throws Exception {
        Files.writeString(root.resolve("cgroup.controllers"), "cpu memory pids");
        Files.createDirectories(root.resolve("thaw.service"));
        Files.createDirectories(root.resolve("thaw.service/thaw-vms")); // a fake tree has no kernel to make control files
        Files.writeString(root.resolve("thaw.service/thaw-vms/cgroup.subtree_control"), "");
        Files.writeString(root.resolve("thaw.service/cgroup.subtree_control"), "");
        Cgroups cg = Cgroups.detect(root, "0::/thaw.service\n");
        assertEquals(2, cg.version());
        assertEquals(root.resolve("thaw.service/thaw-vms"), cg.parents().get(""));
        List<Path> dirs = cg.create("7-d-x", new Cgroups.Limits(1L << 30, 300_000, 264));
        Path d = root.resolve("thaw.service/thaw-vms/7-d-x");
        assertEquals(List.of(d), dirs);
        assertEquals("+memory +cpu +pids", Files.readString(root.resolve("thaw.service/cgroup.subtree_control")));
        assertEquals(Long.toString(1L << 30), Files.readString(d.resolve("memory.max")));
        assertEquals("300000 100000", Files.readString(d.resolve("cpu.max")));
        assertEquals("300", Files.readString(d.resolve("cpu.weight")));
        assertEquals(Long.toString(Math.min(10_000, 200L * Runtime.getRuntime().availableProcessors())),
                Files.readString(root.resolve("thaw.service/thaw-vms/cpu.weight")));
        assertEquals("264", Files.readString(d.resolve("pids.max")));
    }

    @Test
    void aHostWithoutTheControllersIsNamed() throws Exception {
        v1("memory");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Cgroups.detect(root, HYBRID_SELF));
        assertTrue(e.getMessage().contains("cpu, pids"), e.getMessage());
    }
}
