package dev.thaw.platform;

import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import dev.thaw.model.Mode;
import dev.thaw.vm.Accel;
import dev.thaw.vm.Jail;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jailed VMM on real QEMU: a restored VM's QEMU runs as a non-root user under seccomp, in its
 * own namespaces and cgroup with the limits thaw derived, with its memory file open read-only;
 * and a guest that touches more memory than its cgroup allows is killed alone (502) while the
 * daemon and other functions carry on. Everything is set up by thaw ({@code --vmm-jail on}).
 * The cgroup's memory overhead is negative for the restores here, so that a 256 MiB guest can
 * exceed its group.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JailIT {
    static final long OVERHEAD_MIB = -96; // 256 MiB guests get a 160 MiB group
    Path dataDir;
    Path runDir;
    Platform platform;

    @BeforeAll
    void start() throws Exception {
        dataDir = Files.createTempDirectory(Path.of("/var/tmp"), "thaw-jail-data-");
        runDir = Files.createTempDirectory(Path.of("/tmp"), "thaw-jail-run-");
        GuestImage image = new ImageBuilder(ThawDirs.cache()).ensure(System.err::println);
        // Deployed with the default overhead: a booting guest writes its memory file through the page
        // cache, and a group that small would stall it on writeback. Restores get the small group.
        platform = open(image, Jail.Options.DEFAULT_OVERHEAD_MIB);
        platform.deploy(FunctionBundle.fromDirectory(VmFixture.exampleFunction("hostile")));
        platform.deploy(FunctionBundle.fromDirectory(VmFixture.exampleFunction("probe")));
        platform.close();
        platform = open(image, OVERHEAD_MIB);
    }

    Platform open(GuestImage image, long overheadMib) {
        Jail jail = Jail.setUp(new Jail.Options(Jail.Mode.ON, ThawDirs.cache(), overheadMib));
        return QemuPlatform.open(new Platform.Config(dataDir, runDir, ThawDirs.cache(), Duration.ofSeconds(60), 4,
                Duration.ofMinutes(30), new Limits(8, 4096, 8, 8, Duration.ofSeconds(30)), null, 0, null, 4, null), image, Accel.TCG, jail);
    }

    @AfterAll
    void stop() {
        if (platform != null) platform.close();
        FileTrees.delete(dataDir);
        FileTrees.delete(runDir);
    }

    static Map<String, String> status(long pid) throws Exception {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int c = line.indexOf(':');
            if (c > 0) m.put(line.substring(0, c), line.substring(c + 1).strip());
        }
        return m;
    }

    /** The VM's own memory group directory, from /proc/PID/cgroup (v1 memory line, or v2's). */
    static Path memoryGroup(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            String[] f = line.split(":", 3);
            if (List.of(f[1].split(",")).contains("memory")) return Path.of("/sys/fs/cgroup/memory" + f[2]);
        }
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            if (line.startsWith("0::")) return Path.of("/sys/fs/cgroup" + line.substring(3));
        }
        throw new IllegalStateException("no memory cgroup for " + pid);
    }

    @Test
    void aRestoredVmmIsJailed() throws Exception {
        assertTrue(platform.health().vmmJail().startsWith("on"), platform.health().vmmJail());
        // The VM this vanilla call restored (another test may have left a faasnap-restored probe idle).
        String id = platform.invoke("probe", Json.parse("{\"v\": 1}"), Mode.VANILLA).instance();
        long pid = platform.instances().stream().filter(i -> i.id().equals(id)).findFirst().orElseThrow().pid();
        Map<String, String> st = status(pid);
        assertTrue(st.get("Name").startsWith("qemu"), st.get("Name"));
        assertNotEquals("0", st.get("Uid").split("\\s+")[0], "QEMU runs as root");
        assertEquals("2", st.get("Seccomp"));
        assertEquals("1", st.get("NoNewPrivs"));
        assertEquals("0000000000000000", st.get("CapEff"));
        for (String ns : List.of("mnt", "pid", "net", "ipc", "uts")) {
            assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + ns)), ns);
        }
        Path group = memoryGroup(pid);
        assertEquals("thaw-vms", group.getParent().getFileName().toString(), group.toString());
        Path limit = Files.exists(group.resolve("memory.max")) ? group.resolve("memory.max") : group.resolve("memory.limit_in_bytes");
        assertEquals((256 + OVERHEAD_MIB) << 20, Long.parseLong(Files.readString(limit).strip()));
        // Its guest memory file is open read-only, and the VM sees only its own files.
        boolean sawMemory = false;
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                String target = Files.readSymbolicLink(fd).toString();
                if (!target.endsWith("/snapshot/memory")) continue;
                sawMemory = true;
                String flags = Files.readAllLines(Path.of("/proc/" + pid + "/fdinfo/" + fd.getFileName())).get(1);
                assertEquals(0, Integer.parseInt(flags.replaceAll("\\D", ""), 8) & 3, "memory file opened with " + flags);
            }
        }
        assertTrue(sawMemory, "QEMU maps the snapshot memory file");
        assertFalse(Files.exists(Path.of("/proc/" + pid + "/root" + dataDir.resolve("functions/hostile"))), "another function's files are visible");
        assertEquals(0, (int) Files.getAttribute(dataDir.resolve("functions/probe/snapshot/memory"), "unix:uid"), "snapshot files belong to root");
    }

    @Test
    void aVmPastItsCgroupMemoryIsKilledAloneAndTheDaemonCarriesOn() throws Exception {
        ThawException e = assertThrows(ThawException.class,
                () -> platform.invoke("hostile", Json.parse("{\"touch_mb\": 180}"), Mode.VANILLA));
        assertEquals(ThawException.Kind.VM_FAILED, e.kind(), e.getMessage());
        // Other hostile instances may be listed (left idle, or restored by the autoscaler after the
        // failure); the killed one must not be: every listed VM is a live process.
        for (Instance.Info i : platform.instances()) {
            assertTrue(Files.exists(Path.of("/proc/" + i.pid())), "a dead VM is still listed: " + i);
        }
        assertEquals("x", platform.invoke("probe", Json.parse("{\"v\": \"x\"}"), Mode.WARM).result().path("echo").path("v").asText());
        assertTrue(platform.invoke("hostile", Json.object(), Mode.VANILLA).result().path("ok").asBoolean());
    }
}
