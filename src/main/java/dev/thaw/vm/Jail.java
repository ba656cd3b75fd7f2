package dev.thaw.vm;

import dev.thaw.sys.HostCompiler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The VMM's jail (the role of Firecracker's jailer): every QEMU runs as the unprivileged system
 * user {@code thaw-vm} with no capabilities and no_new_privs, in its own mount, PID, network, IPC
 * and UTS namespaces, with a root file system that holds only what it needs, and in a cgroup of
 * its own whose memory, CPU and task limits come from the VM's size. thaw sets all of it up
 * itself (the user, the cgroups, the preload library); nothing is done by hand.
 *
 * <p>How: QEMU's argv is wrapped by thaw's jailer ({@code jail/jailer.c}, compiled once into the
 * cache), which, as root, enters the new namespaces and forks; the child builds the root in a
 * tmpfs (read-only binds of {@code /usr}, {@code ld.so.cache}, the image and snapshot files; four
 * device nodes; writable binds of the VM's run directory and, for a deploy, its snapshot
 * directory), {@code pivot_root}s into it, detaches the old root, remounts the new one read-only,
 * drops every capability, takes the uid and gid of {@value #USER}, sets no_new_privs and a
 * parent-death signal, and execs QEMU once the parent has moved it into the VM's cgroups (so QEMU
 * is limited from its first instruction; the parent does that beside the child's set-up, because
 * a cgroup v1 join waits for an RCU grace period, milliseconds on a loaded host).
 * {@code THAW_JAIL_TRACE=1} logs each start's steps ({@link StartTrace}).
 * Host paths keep their names inside the jail, so QEMU's command line is unchanged. QEMU is PID 1
 * of its namespace and the jailer's only child: thaw records that child's pid (in the host's
 * namespace) as the VMM's, for pagemap and I/O statistics. A shell script of mount(8) calls did
 * the same in about 200 ms per VM; the jailer takes about 4 ms on an idle host (docs/design.md
 * §5, "Cost"). A VM's groups weigh what its threads weighed unjailed ({@link Cgroups}).
 *
 * <p>Snapshot files are mounted read-only. QEMU 7.2 still opens a {@code memory-backend-file}
 * read-write even for a private mapping (its {@code readonly=on} maps guest RAM read-only), so
 * a tiny preloaded library ({@code jail/readonly-open.c}, compiled once into the cache) opens the
 * listed files read-only; a private writable mapping of a read-only descriptor is allowed.
 * See docs/design.md §5 "The VMM's jail" for what is and is not isolated, and the overheads.
 */
public final class Jail {
    private static final System.Logger LOG = System.getLogger(Jail.class.getName());
    static final String USER = "thaw-vm";
    /** Devices QEMU opens (plus /dev/kvm under KVM). */
    static final List<String> DEVICES = List.of("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random");

    /** Whether to jail: {@code auto} jails when the host allows it and says why not otherwise. */
    public enum Mode {
        AUTO, ON, OFF;

        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "on" -> ON;
                case "off" -> OFF;
                default -> throw new IllegalArgumentException("--vmm-jail must be auto, on or off, got " + s);
            };
        }
    }

    /**
     * @param memoryOverheadMib QEMU's memory beyond guest RAM that its cgroup allows (may be negative in tests)
     */
    public record Options(Mode mode, Path cacheDir, long memoryOverheadMib) {
        /** Measured under TCG (docs/design.md §5): a restored VM's QEMU uses up to ~90 MiB beyond guest RAM. */
        public static final long DEFAULT_OVERHEAD_MIB = 192;
    }

    /** Everything the wrapper script needs for one VM: pure data, so the argv is unit-testable. */
    record Plan(Path jailer, int uid, int gid, List<Integer> groups, Path rootMount, List<Path> cgroupProcs,
                List<Path> readOnly, List<Path> writable, List<String> devices, List<Path> preloads, List<Path> readOnlyOpens) {}

    /** What every jailed QEMU sees of the host: programs and libraries (read-only), the dynamic linker's cache. */
    static final List<String> SYSTEM = systemPaths();

    private static List<String> systemPaths() {
        List<String> l = new ArrayList<>(List.of("/usr"));
        for (String p : List.of("/bin", "/sbin", "/lib", "/lib64")) {
            if (Files.exists(Path.of(p), java.nio.file.LinkOption.NOFOLLOW_LINKS)) l.add(p); // links on merged-/usr hosts
        }
        l.add("/etc/ld.so.cache");
        return List.copyOf(l);
    }

    private final boolean enabled;
    private final String status;
    private final int uid;
    private final int gid;
    private final Cgroups cgroups;
    private final Path preload;
    private final Path jailer;
    private final Path rootMount;
    private final long overheadMib;
    private final MemoryWatchdog watchdog = new MemoryWatchdog();

    private Jail(boolean enabled, String status, int uid, int gid, Cgroups cgroups, Path preload, Path jailer, Path rootMount,
                 long overheadMib) {
        this.enabled = enabled;
        this.status = status;
        this.uid = uid;
        this.gid = gid;
        this.cgroups = cgroups;
        this.preload = preload;
        this.jailer = jailer;
        this.rootMount = rootMount;
        this.overheadMib = overheadMib;
    }

    /** No jail: QEMU runs as the daemon's user, in its namespaces and cgroup. */
    public static Jail off(String why) {
        return new Jail(false, why == null ? "off" : "off: " + why, -1, -1, null, null, null, null, 0);
    }

    /**
     * Sets the jail up on this host: creates the {@value #USER} user if missing, finds the
     * cgroup hierarchies, builds the preload library. {@code AUTO} falls back to no jail (with
     * the reason in {@link #status()}, reported by /healthz) where that fails; {@code ON} throws.
     */
    public static Jail setUp(Options o) {
        if (o.mode() == Mode.OFF) return off(null);
        try {
            if (!"root".equals(System.getProperty("user.name"))) throw new IllegalStateException("the daemon does not run as root");
            Cgroups cg = Cgroups.detect(Path.of("/sys/fs/cgroup"), Files.readString(Path.of("/proc/self/cgroup")));
            int[] ids = ensureUser();
            Path dir = Files.createDirectories(o.cacheDir().resolve("jail"));
            Path root = Files.createDirectories(dir.resolve("root"));
            Path lib = HostCompiler.build("/jail/readonly-open.c", dir, "readonly-open", true);
            Path jailer = HostCompiler.build("/jail/jailer.c", dir, "jailer", false);
            sweep(cg);
            Jail j = new Jail(true, "on (uid " + ids[0] + ", cgroup v" + cg.version() + ")", ids[0], ids[1], cg, lib, jailer, root,
                    o.memoryOverheadMib());
            LOG.log(System.Logger.Level.INFO, "VMM jail " + j.status);
            return j;
        } catch (IOException | RuntimeException e) {
            if (o.mode() == Mode.ON) throw new VmException("cannot set up the VMM jail (--vmm-jail on): " + e.getMessage(), e);
            LOG.log(System.Logger.Level.WARNING, "QEMU runs without its jail: " + e.getMessage());
            return off(e.getMessage());
        }
    }

    public boolean enabled() {
        return enabled;
    }

    /** {@code on (uid N, cgroup vK)}, {@code off} or {@code off: why}; reported by /healthz. */
    public String status() {
        return status;
    }

    /** The limits of a VM with this memory and vCPUs: guest RAM plus QEMU's overhead; vCPUs plus one core for QEMU's own threads. */
    Cgroups.Limits limits(int memoryMib, int vcpus) {
        return new Cgroups.Limits((memoryMib + overheadMib) << 20, (vcpus + 1L) * Cgroups.CPU_PERIOD_US, 256 + 4 * vcpus);
    }

    /**
     * Prepares one VM's jail: its cgroups, and ownership of what it may write (its run directory
     * with the sockets thaw listens on; for a deploy, its snapshot directory). Call after the
     * sockets exist and before QEMU starts; {@link Cell#close()} after QEMU has exited.
     */
    Cell enter(String id, VmConfig c, Path runDir) throws IOException {
        Cgroups.Limits limits = limits(c.memoryMib(), c.vcpus());
        List<Path> groups = cgroups.create(ProcessHandle.current().pid() + "-" + id, limits);
        List<Path> ro = new ArrayList<>(List.of(c.image().kernel(), c.image().initrd(), c.image().rootfs()));
        List<Path> rw = new ArrayList<>(List.of(runDir));
        List<Path> roOpens = new ArrayList<>();
        Path deployDir = null;
        try {
            // The run directory stays root's: QEMU may connect to the two sockets and write its console
            // log, but not add, rename or replace an entry (a link there would be read by thaw as root).
            own(runDir.resolve("qmp.sock"), uid, gid);
            own(runDir.resolve("agent.sock"), uid, gid);
            own(runDir.resolve(QemuGuest.FD_SOCKET), uid, gid);
            own(Files.createFile(runDir.resolve("console.log")), uid, gid);
            if (c.memoryFile() != null && c.sharedMemory()) {
                deployDir = c.memoryFile().getParent();
                own(deployDir, uid, gid);
                rw.add(deployDir);
            } else if (c.memoryFile() != null) {
                ro.add(c.memoryFile());
                roOpens.add(c.memoryFile());
            }
            // No vmstate: thaw opens it and passes QEMU the descriptor (FdMonitor).
            if (c.uffd() != null) {
                // The page server's socket is bound alone (read-only is enough to connect), never its
                // directory: there the sockets of other VMs' page servers wait, and a QEMU that reached
                // one could hand over its own memory and be served another function's pages.
                own(c.uffd().socket(), uid, gid);
                ro.add(c.uffd().socket());
                ro.add(c.uffd().preload());
            }
            if (c.regions() != null) {
                ro.add(c.regions().list());
                ro.add(c.regions().preload());
            }
        } catch (IOException | RuntimeException e) {
            Cgroups.remove(groups);
            throw e;
        }
        List<String> devices = new ArrayList<>(DEVICES);
        List<Integer> extraGroups = new ArrayList<>();
        if (c.accel() == Accel.KVM && Files.exists(Path.of("/dev/kvm"))) {
            devices.add("/dev/kvm");
            extraGroups.add((Integer) Files.getAttribute(Path.of("/dev/kvm"), "unix:gid"));
        }
        List<Path> preloads = new ArrayList<>(List.of(preload));
        if (c.uffd() != null) preloads.add(c.uffd().preload());
        if (c.regions() != null) preloads.add(c.regions().preload());
        Plan plan = new Plan(jailer, uid, gid, extraGroups, rootMount, Cgroups.procsFiles(groups), ro, rw, devices, preloads, roOpens);
        return new Cell(id, plan, groups, limits.memoryBytes(), deployDir);
    }

    /** One VM's jail: wraps its argv, and undoes what {@link #enter} did once QEMU is gone. */
    final class Cell implements AutoCloseable {
        private final String id;
        private final Plan plan;
        private final List<Path> groups;
        private final long memoryLimit;
        private final Path deployDir;

        private Cell(String id, Plan plan, List<Path> groups, long memoryLimit, Path deployDir) {
            this.id = id;
            this.plan = plan;
            this.groups = groups;
            this.memoryLimit = memoryLimit;
            this.deployDir = deployDir;
        }

        /** QEMU is running as {@code pid}: the {@link MemoryWatchdog} kills it should its memory fill the group. */
        void started(long pid) {
            watchdog.watch(id, pid, groups.getFirst(), memoryLimit); // the memory group is first on v1, the only one on v2
        }

        List<String> wrap(List<String> qemu) {
            return argv(plan, qemu);
        }

        List<Path> cgroups() {
            return groups;
        }

        /** Removes the cgroups (retrying briefly while the killed QEMU is torn down) and hands the deploy directory back to root. */
        @Override
        public void close() {
            watchdog.forget(id);
            List<Path> left = groups;
            for (int i = 0; i < 200 && !left.isEmpty(); i++) {
                left = Cgroups.remove(left);
                if (!left.isEmpty()) java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
            }
            if (!left.isEmpty()) LOG.log(System.Logger.Level.WARNING, "cannot remove the VM's cgroups " + left);
            if (deployDir != null) reclaim(deployDir);
        }
    }

    /**
     * Hands a deploy VM's snapshot directory back to root once the VM (and with it every process of
     * its PID namespace) is gone: regular files become root's, {@code 0644}; anything else the VM
     * left there (a link to a host file, a FIFO, a directory) is deleted, never followed, so the
     * deploy that reads, checksums and maps these files next reads only what the VM wrote.
     */
    static void reclaim(Path dir) {
        try {
            own(dir, 0, 0);
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        own(p, 0, 0);
                        Files.getFileAttributeView(p, java.nio.file.attribute.PosixFileAttributeView.class,
                                java.nio.file.LinkOption.NOFOLLOW_LINKS).setPermissions(PosixFilePermissions.fromString("rw-r--r--"));
                    } else {
                        LOG.log(System.Logger.Level.WARNING, "a deploy VM left " + p + ", which is not a regular file: deleted");
                        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) dev.thaw.common.FileTrees.delete(p);
                        else Files.delete(p);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot hand " + dir + " back to root: " + e);
        }
    }

    /** The jailed command line: the jailer with the VM's plan, then QEMU's argv. */
    static List<String> argv(Plan p, List<String> qemu) {
        List<String> cmd = new ArrayList<>(List.of(p.jailer().toString(), "--uid", Integer.toString(p.uid()), "--gid", Integer.toString(p.gid())));
        for (int g : p.groups()) cmd.addAll(List.of("--group", Integer.toString(g)));
        for (Path f : p.cgroupProcs()) cmd.addAll(List.of("--cgroup", f.toString()));
        cmd.addAll(List.of("--root", p.rootMount().toString()));
        Set<String> ro = new LinkedHashSet<>(SYSTEM);
        for (Path f : p.readOnly()) ro.add(f.toString());
        for (Path lib : p.preloads()) ro.add(lib.toString());
        for (String f : ro) cmd.addAll(List.of("--ro", f));
        for (String d : p.devices()) cmd.addAll(List.of("--dev", d));
        for (Path d : p.writable()) cmd.addAll(List.of("--rw", d.toString()));
        cmd.addAll(List.of("--env", "LD_PRELOAD=" + String.join(":", p.preloads().stream().map(Path::toString).toList()),
                "--env", "THAW_READONLY_FILES=" + String.join(":", p.readOnlyOpens().stream().map(Path::toString).toList()), "--"));
        cmd.addAll(qemu);
        return cmd;
    }

    static String q(Object o) {
        return "'" + o.toString().replace("'", "'\\''") + "'";
    }

    private static void own(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** {uid, gid} of {@value #USER}, created as a system user without home or shell when missing. */
    private static int[] ensureUser() throws IOException {
        if (run("getent", "passwd", USER).code() != 0) {
            run("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                    "--user-group", USER);
            LOG.log(System.Logger.Level.INFO, "created the system user " + USER + " for jailed VMMs");
        }
        String[] f = run("getent", "passwd", USER).out().strip().split(":");
        if (f.length < 4) throw new IOException("cannot create or read the user " + USER);
        int uid = Integer.parseInt(f[2]);
        if (uid == 0) throw new IOException("the user " + USER + " has uid 0");
        return new int[] {uid, Integer.parseInt(f[3])};
    }

    /**
     * Compiles {@code jail/NAME.c} (a shared library or a program) once per source version into
     * the cache, with the host's {@code cc} (build-essential), so the jail needs no binary in the jar.
     */
    /** Removes the empty cgroups left by daemons that are gone (named {@code <daemon pid>-<vm id>}). */
    private static void sweep(Cgroups cg) {
        for (Path parent : cg.parents().values()) {
            if (!Files.isDirectory(parent)) continue;
            try (var s = Files.list(parent)) {
                for (Path d : s.filter(Files::isDirectory).toList()) {
                    String name = d.getFileName().toString();
                    int dash = name.indexOf('-');
                    if (dash <= 0) continue;
                    try {
                        if (ProcessHandle.of(Long.parseLong(name.substring(0, dash))).isEmpty()) Cgroups.remove(List.of(d));
                    } catch (NumberFormatException ignored) {
                        // not one of thaw's
                    }
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot sweep " + parent + ": " + e);
            }
        }
    }

    private record Ran(int code, String out) {}

    private static Ran run(String... cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Ran(127, cmd[0] + ": " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            return new Ran(p.waitFor(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + cmd[0]);
        }
    }

    /** The pid of {@code pid}'s only child (QEMU under {@code unshare --fork}), or -1. */
    static long childOf(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/task/" + pid + "/children")).strip();
            return s.isEmpty() ? -1 : Long.parseLong(s.split(" ")[0]);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
