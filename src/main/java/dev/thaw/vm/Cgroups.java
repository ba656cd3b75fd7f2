package dev.thaw.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-VM control groups of the jail ({@link Jail}), on cgroup v1 or v2, whichever the host has.
 *
 * <p>Detection: a pure v2 host mounts the unified hierarchy at the root ({@code cgroup.controllers}
 * there); otherwise thaw needs the v1 {@code memory}, {@code cpu} and {@code pids} hierarchies
 * (a hybrid host's empty {@code unified} mount is ignored: it has no controllers to give). Each
 * VM's groups are made <em>under the daemon's own group</em> of each hierarchy (read from
 * {@code /proc/self/cgroup}), in a child named {@code thaw-vms}: whatever limits or accounting
 * contain the daemon contain its VMs too, as before the jail. On v2 that needs the daemon's group
 * to delegate its controllers ({@code cgroup.subtree_control}); a group that holds processes
 * itself cannot, and {@link #create} says so (run the daemon as the root group or a systemd
 * service with {@code Delegate=yes} in a leaf).
 *
 * <p>Limits per VM: memory (v1 {@code memory.limit_in_bytes}, v2 {@code memory.max} and no swap),
 * CPU bandwidth (v1 {@code cpu.cfs_quota_us}/{@code cpu.cfs_period_us}, v2 {@code cpu.max}) and
 * tasks ({@code pids.max}). The kernel's OOM killer acts inside the group alone, so a VM that
 * goes past its memory is killed without touching the daemon or other VMs.
 *
 * <p>CPU weights: a group is one entity to the scheduler, weighing its {@code cpu.shares} (v1,
 * default 1024) or {@code cpu.weight} (v2, default 100) against its siblings, whatever the number
 * of threads inside. Unjailed, each of QEMU's threads weighed a default task's 1024 against every
 * other task in the daemon's group; with default weights every VM of the host would share one
 * task's weight ({@code thaw-vms}) and each VM's busy threads one more. Under load that starves
 * the VMs: with a load average of 11, QEMU's start took a median 310 ms in default-weight groups
 * against 175 ms with the weights below (docs/results/2026-11-30-jail). So a VM's group weighs
 * what its busy threads did, one default task per core it may use ({@code vcpus + 1}), and
 * {@code thaw-vms} weighs two default tasks per host core: the VMs together count as much as two
 * busy threads on every core, wherever the daemon runs.
 *
 * @param version    {@code 1} or {@code 2}
 * @param parents    per hierarchy (v1: controller name; v2: {@code ""}), the directory the VMs' groups go in
 */
record Cgroups(int version, Map<String, Path> parents) {
    static final String PARENT_NAME = "thaw-vms";
    static final long CPU_PERIOD_US = 100_000;

    /** What one VM may use. */
    record Limits(long memoryBytes, long cpuQuotaUs, int maxTasks) {
        /** The cores the quota allows, at least one: the VM group's weight in default tasks. */
        long cores() {
            return Math.max(1, cpuQuotaUs / CPU_PERIOD_US);
        }
    }

    /** v1 {@code cpu.shares} of one default task, and v2 {@code cpu.weight}'s default and maximum. */
    static final long SHARES = 1024, WEIGHT = 100, MAX_WEIGHT = 10_000;

    /** {@code thaw-vms}' weight in default tasks: two per host core. */
    static long parentTasks() {
        return 2L * Runtime.getRuntime().availableProcessors();
    }

    /**
     * Finds the hierarchies under {@code root} (normally {@code /sys/fs/cgroup}) and the daemon's
     * place in them from {@code selfCgroup} (the text of {@code /proc/self/cgroup}).
     *
     * @throws IllegalStateException naming what is missing
     */
    static Cgroups detect(Path root, String selfCgroup) {
        Map<String, String> own = new LinkedHashMap<>();
        for (String line : selfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            if (f[1].isEmpty()) own.put("", f[2].strip());
            else for (String c : f[1].split(",")) own.put(c, f[2].strip());
        }
        Map<String, Path> parents = new LinkedHashMap<>();
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            parents.put("", under(root, own.getOrDefault("", "/")).resolve(PARENT_NAME));
            return new Cgroups(2, parents);
        }
        List<String> missing = new ArrayList<>();
        for (String c : List.of("memory", "cpu", "pids")) {
            Path mount = root.resolve(c);
            if (!Files.exists(mount.resolve("cgroup.procs"))) {
                missing.add(c);
                continue;
            }
            parents.put(c, under(mount, own.getOrDefault(c, "/")).resolve(PARENT_NAME));
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("no cgroup v2 at " + root + " and no cgroup v1 hierarchy for " + String.join(", ", missing));
        }
        return new Cgroups(1, parents);
    }

    private static Path under(Path mount, String group) {
        String rel = group.replaceFirst("^/+", "");
        return rel.isEmpty() ? mount : mount.resolve(rel);
    }

    /** The directories one VM's group has (one per v1 hierarchy, one on v2), created with {@code limits}. */
    List<Path> create(String name, Limits limits) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try {
            for (Map.Entry<String, Path> e : parents.entrySet()) {
                Path parent = e.getValue();
                if (version == 2) {
                    delegate(parent);
                    write(parent, "cpu.weight", Long.toString(Math.min(MAX_WEIGHT, WEIGHT * parentTasks())));
                } else {
                    Files.createDirectories(parent);
                    if (e.getKey().equals("cpu")) write(parent, "cpu.shares", Long.toString(SHARES * parentTasks()));
                }
                Path dir = parent.resolve(name);
                Files.createDirectory(dir);
                dirs.add(dir);
                if (version == 2) {
                    write(dir, "memory.max", Long.toString(limits.memoryBytes()));
                    if (Files.exists(dir.resolve("memory.swap.max"))) write(dir, "memory.swap.max", "0");
                    write(dir, "cpu.max", limits.cpuQuotaUs() + " " + CPU_PERIOD_US);
                    write(dir, "cpu.weight", Long.toString(Math.min(MAX_WEIGHT, WEIGHT * limits.cores())));
                    write(dir, "pids.max", Integer.toString(limits.maxTasks()));
                } else switch (e.getKey()) {
                    case "memory" -> write(dir, "memory.limit_in_bytes", Long.toString(limits.memoryBytes()));
                    case "cpu" -> {
                        write(dir, "cpu.cfs_period_us", Long.toString(CPU_PERIOD_US));
                        write(dir, "cpu.cfs_quota_us", Long.toString(limits.cpuQuotaUs()));
                        write(dir, "cpu.shares", Long.toString(SHARES * limits.cores()));
                    }
                    case "pids" -> write(dir, "pids.max", Integer.toString(limits.maxTasks()));
                    default -> { }
                }
            }
            return dirs;
        } catch (IOException | RuntimeException e) {
            remove(dirs);
            throw e;
        }
    }

    /** v2: the parent exists and hands memory, cpu and pids down to the VMs' groups. */
    private static void delegate(Path parent) throws IOException {
        Path daemons = parent.getParent();
        try {
            write(daemons, "cgroup.subtree_control", "+memory +cpu +pids");
            Files.createDirectories(parent);
            write(parent, "cgroup.subtree_control", "+memory +cpu +pids");
        } catch (IOException e) {
            throw new IOException("cannot delegate the memory, cpu and pids controllers from " + daemons
                    + " (a cgroup v2 group that holds processes, like the daemon's own, cannot; run thaw in a delegated "
                    + "leaf group, e.g. a systemd service with Delegate=yes, or use --vmm-jail off): " + e.getMessage(), e);
        }
    }

    private static void write(Path dir, String file, String value) throws IOException {
        Files.writeString(dir.resolve(file), value);
    }

    /** Removes a VM's groups (they must be empty: its processes have exited). Best effort, returns what stayed. */
    static List<Path> remove(List<Path> dirs) {
        List<Path> left = new ArrayList<>();
        for (Path d : dirs) {
            try {
                Files.deleteIfExists(d); // rmdir: a cgroup directory's files are not real files
            } catch (IOException e) {
                left.add(d);
            }
        }
        return left;
    }

    /** The {@code cgroup.procs} files a process writes {@code 0} to in order to join a VM's groups. */
    static List<Path> procsFiles(List<Path> dirs) {
        return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
    }
}
