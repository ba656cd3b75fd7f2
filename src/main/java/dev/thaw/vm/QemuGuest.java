package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.FileTrees;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import dev.thaw.memory.ProcessStats;
import dev.thaw.sys.Native;
import dev.thaw.sys.NativeException;
import dev.thaw.sys.UnixSocket;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Guest} in one QEMU process, and the two sockets thaw holds to it: QMP (control) and the
 * agent's virtio-serial port (data, spoken by its {@link AgentConnection}). This is the only class
 * that knows QEMU's command line and its start, restore and snapshot sequences.
 *
 * <p>Start-up without polling: thaw listens on both Unix sockets and QEMU connects to them as
 * a client while it starts, so {@code accept} returns the moment QEMU is ready for commands.
 * The command line itself is {@link QemuCommand}'s.
 * Every QEMU is spawned from a long-lived platform thread ({@link Spawner}) through
 * {@code setpriv --pdeathsig KILL}: the kernel kills the VM when the thread that spawned it
 * dies, so a crashed daemon leaves no orphan VMs behind.
 *
 * <p>Snapshot and restore follow docs/design.md §4: RAM lives in a file that the boot maps shared;
 * {@code x-ignore-shared} keeps it out of the migration stream, so the vmstate is a few tens of
 * KiB and a restore maps the same file private (copy-on-write) and loads pages on demand.
 */
public final class QemuGuest implements Guest {
    private static final System.Logger LOG = System.getLogger(QemuGuest.class.getName());
    /** The socket of the second QMP monitor, the one descriptors are passed on ({@link FdMonitor}). */
    static final String FD_SOCKET = "qmp-fd.sock";

    private final String id;
    private final VmConfig config;
    private final Path runDir;
    private final Process process;
    private final long vmmPid;
    private final Jail.Cell cell;
    private final Qmp qmp;
    private final FdMonitor fdMonitor;
    private final AgentConnection agent;

    private QemuGuest(String id, VmConfig config, Path runDir, Process process, long vmmPid, Jail.Cell cell, Qmp qmp,
                      FdMonitor fdMonitor, AgentConnection agent) {
        this.id = id;
        this.config = config;
        this.runDir = runDir;
        this.process = process;
        this.vmmPid = vmmPid;
        this.cell = cell;
        this.qmp = qmp;
        this.fdMonitor = fdMonitor;
        this.agent = agent;
    }

    /**
     * Launches {@link QemuGuest}s: each in a fresh run directory under {@code runDir} (sockets,
     * logs), with the host-wide paging choice ({@link HugePageAdvice}) applied to every VM alike.
     */
    public static final class Launcher implements GuestLauncher {
        private final Path runDir;
        private final Accel accel;
        private final HugePageAdvice hugePageAdvice;
        private final Duration startTimeout;
        private final GuestLimits limits;
        private final Jail jail;

        public Launcher(Path runDir, Accel accel, HugePageAdvice hugePageAdvice, Duration startTimeout) {
            this(runDir, accel, hugePageAdvice, startTimeout, GuestLimits.DEFAULT);
        }

        /** @param limits what each guest may send the host (see {@link GuestLimits}) */
        public Launcher(Path runDir, Accel accel, HugePageAdvice hugePageAdvice, Duration startTimeout, GuestLimits limits) {
            this(runDir, accel, hugePageAdvice, startTimeout, limits, Jail.off(null));
        }

        /** @param jail how every QEMU is confined ({@link Jail}; {@link Jail#off} runs it as the daemon's user) */
        public Launcher(Path runDir, Accel accel, HugePageAdvice hugePageAdvice, Duration startTimeout, GuestLimits limits, Jail jail) {
            this.runDir = runDir;
            this.accel = accel;
            this.hugePageAdvice = hugePageAdvice == null ? HugePageAdvice.DROP : hugePageAdvice;
            this.startTimeout = startTimeout;
            this.limits = limits;
            this.jail = jail;
        }

        @Override
        public Guest launch(VmConfig config, String id, CallHandler calls) {
            Path dir;
            try {
                dir = Files.createDirectories(runDir.resolve(id));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot create the run directory of " + id, e);
            }
            return start(id, config.withHugePageAdvice(hugePageAdvice), dir, startTimeout, calls, limits, jail);
        }

        @Override
        public Accel accel() {
            return accel;
        }

        @Override
        public String vmmJail() {
            return jail.status();
        }
    }

    /**
     * Starts QEMU and returns once QMP is negotiated and the agent port is connected. A boot is
     * already running the guest; a restore waits, paused, for {@link #loadState} and {@link #resume()}.
     */
    static QemuGuest start(String id, VmConfig config, Path runDir, Duration timeout, CallHandler calls, GuestLimits limits, Jail jail) {
        Process process = null;
        Jail.Cell cell = null;
        StartTrace trace = new StartTrace();
        FdMonitor fdMonitor = null;
        Native.Fd fdServer = null;
        try (ServerSocketChannel qmpServer = VmmSockets.listen(runDir.resolve("qmp.sock"));
             ServerSocketChannel agentServer = VmmSockets.listen(runDir.resolve("agent.sock"))) {
            Files.deleteIfExists(runDir.resolve(FD_SOCKET));
            fdServer = UnixSocket.listen(runDir.resolve(FD_SOCKET));
            List<String> cmd = QemuCommand.argv(config, runDir);
            if (jail.enabled()) {
                cell = jail.enter(id, config, runDir);
                cmd = cell.wrap(cmd.subList(4, cmd.size())); // QEMU's own argv, without the unjailed setpriv prefix
                trace.mark("cell");
            }
            Files.writeString(runDir.resolve("cmdline"), String.join(" ", cmd) + "\n");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(runDir.resolve("qemu.log").toFile());
            config.putPreloadEnvironment(pb.environment());
            process = Spawner.start(pb, config.hugePageAdvice());
            trace.mark("spawned");
            SocketChannel qmpChannel = trace.marked("qmp", VmmSockets.accept(qmpServer, process, runDir, timeout, "QMP"));
            SocketChannel agent = trace.marked("agent", VmmSockets.accept(agentServer, process, runDir, timeout, "agent port"));
            fdMonitor = new FdMonitor(VmmSockets.acceptNative(fdServer, process, timeout), timeout);
            trace.log(id, runDir.resolve("qemu.log"));
            // Jailed, the process thaw started is unshare; QEMU, connected by now, is its only child.
            long vmmPid = cell == null ? process.pid() : Jail.childOf(process.pid());
            if (vmmPid < 0) throw new VmException.Died("the jailed QEMU exited before it could be found");
            if (cell != null) cell.started(vmmPid);
            Qmp qmp = new Qmp(qmpChannel);
            return new QemuGuest(id, config, runDir, process, vmmPid, cell, qmp, fdMonitor, new AgentConnection(agent, calls, limits));
        } catch (IOException | RuntimeException e) {
            if (fdMonitor != null) fdMonitor.close();
            if (process != null) kill(process, cell == null ? -1 : Jail.childOf(process.pid()));
            if (cell != null) cell.close();
            String log = qemuLog(runDir);
            if (e instanceof VmException ve && log.isEmpty()) throw ve;
            throw new VmException((e instanceof VmException ? e.getMessage() : "cannot start QEMU: " + e)
                    + (log.isEmpty() ? "" : "; QEMU said: " + log), e);
        } finally {
            if (fdServer != null) {
                try {
                    fdServer.close();
                } catch (NativeException ignored) {
                    // the listener only; the accepted connection lives on
                }
            }
        }
    }

    /** Kills QEMU (first, so that unshare reaps it and its cgroup empties) and the process thaw started. */
    private static void kill(Process process, long vmmPid) {
        if (vmmPid > 0) ProcessHandle.of(vmmPid).ifPresent(ProcessHandle::destroyForcibly);
        try {
            if (vmmPid > 0 && process.waitFor(5, TimeUnit.SECONDS)) return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void setSnapshotCapabilities() {
        var caps = Json.MAPPER.createArrayNode();
        caps.addObject().put("capability", "x-ignore-shared").put("state", true);
        caps.addObject().put("capability", "events").put("state", true);
        var args = Json.object();
        args.set("capabilities", caps);
        qmp.execute("migrate-set-capabilities", args, Duration.ofSeconds(10));
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public void awaitReady(Duration timeout) {
        agent.awaitReady(timeout);
    }

    @Override
    public JsonNode request(ObjectNode request, Duration timeout) {
        return agent.request(request, timeout);
    }

    /**
     * Loads the device state of a restore (guest RAM stays in the file, mapped on demand, or with
     * the page server): thaw opens the vmstate and hands QEMU the descriptor ({@link FdMonitor}).
     */
    @Override
    public void loadState(Duration timeout) {
        if (config.incomingState() == null) throw new IllegalStateException("a pre-started VMM loads the state it is bound to");
        loadState(config.incomingState(), timeout);
    }

    @Override
    public void loadState(Path vmstate, Duration timeout) {
        if (!config.restoring()) throw new IllegalStateException("this VM was booted, not restored");
        setSnapshotCapabilities();
        try (Native.Fd state = Native.open(vmstate, Native.O_RDONLY | Native.O_CLOEXEC)) {
            fdMonitor.passFd("vmstate", state, timeout); // QEMU holds its own copy from here on
        } catch (NativeException e) {
            throw new VmException("cannot open the snapshot state " + vmstate + ": " + e.getMessage(), e);
        }
        fdMonitor.execute("migrate-incoming", Json.object().put("uri", "fd:vmstate"), timeout);
        awaitMigration(timeout, "loading the snapshot state");
    }

    private void awaitMigration(Duration timeout, String what) {
        JsonNode ev = qmp.awaitEvent(e -> "MIGRATION".equals(e.path("event").asText())
                && switch (e.path("data").path("status").asText()) {
                    case "completed", "failed", "cancelled" -> true;
                    default -> false;
                }, timeout, what);
        String status = ev.path("data").path("status").asText();
        if (!"completed".equals(status)) {
            throw new VmException(what + " " + status + qemuLogSuffix());
        }
    }

    /** Resumes a paused (restored) VM. */
    @Override
    public void resume() {
        qmp.execute("cont");
    }

    /**
     * Writes the device state to {@code vmstate} and leaves the VM stopped. Guest RAM is not
     * in the stream: it is already in the shared memory file, which the caller fsyncs.
     */
    @Override
    public void snapshot(Path vmstate, Duration timeout) {
        if (config.memoryFile() == null || !config.sharedMemory()) {
            throw new IllegalStateException("only a VM booted with a shared memory file can be snapshotted");
        }
        setSnapshotCapabilities();
        qmp.execute("stop");
        // QEMU writes the stream into a descriptor thaw opened; it has flushed every byte when it
        // reports completion, and the rename marks the file as whole (the caller fsyncs it).
        Path part = vmstate.resolveSibling(vmstate.getFileName() + ".part");
        try (Native.Fd out = Native.open(part, Native.O_WRONLY | Native.O_CREAT | Native.O_TRUNC | Native.O_CLOEXEC, 0644)) {
            fdMonitor.passFd("vmstate-out", out, timeout);
        } catch (NativeException e) {
            throw new VmException("cannot create " + part + ": " + e.getMessage(), e);
        }
        fdMonitor.execute("migrate", Json.object().put("uri", "fd:vmstate-out"), timeout);
        awaitMigration(timeout, "saving the snapshot state");
        try {
            Files.move(part, vmstate, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new VmException("cannot rename " + part + " to " + vmstate + ": " + e.getMessage(), e);
        }
    }

    /** QEMU's pid in the host's PID namespace (jailed or not). */
    @Override
    public long pid() {
        return vmmPid;
    }

    @Override
    public boolean alive() {
        return process.isAlive() && agent.open();
    }

    @Override
    public ProcessStats processStats() {
        try {
            return ProcessStats.of(vmmPid);
        } catch (IOException e) {
            return null;
        }
    }

    public VmConfig config() {
        return config;
    }

    public Path runDir() {
        return runDir;
    }

    public String consoleTail() {
        try {
            String s = Files.readString(runDir.resolve("console.log"));
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "";
        }
    }

    private String qemuLogSuffix() {
        String log = qemuLog(runDir);
        return log.isEmpty() ? "" : "; QEMU said: " + log;
    }

    private static String qemuLog(Path runDir) {
        try {
            String s = Files.readString(runDir.resolve("qemu.log")).strip();
            return s.length() > 1500 ? s.substring(s.length() - 1500) : s;
        } catch (IOException e) {
            return "";
        }
    }

    /** Kills QEMU (no graceful shutdown: the guest holds nothing worth saving) and removes its run dir. */
    @Override
    public void close() {
        qmp.close();
        fdMonitor.close();
        agent.close();
        kill(process, cell == null ? -1 : vmmPid);
        if (cell != null) cell.close();
        try {
            FileTrees.delete(runDir);
        } catch (java.io.UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove " + runDir + ": " + e);
        }
    }

}
