package dev.thaw.cli;

import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import dev.thaw.platform.Limits;
import dev.thaw.platform.Platform;
import dev.thaw.platform.Scaling;
import dev.thaw.scale.HistogramKeepAlive;
import dev.thaw.scale.KeepAlivePolicy;
import dev.thaw.scale.RestoreSlots;
import dev.thaw.platform.RecordMethod;
import dev.thaw.vm.Accel;
import dev.thaw.vm.AccelProbe;
import dev.thaw.vm.GuestLimits;
import dev.thaw.vm.HugePageAdvice;
import dev.thaw.vm.Jail;
import dev.thaw.vm.QemuGuest;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** Options shared by every command that runs VMs, and the start-up sequence they share. */
public final class Boot {
    @Option(names = "--data-dir", description = "Deployed functions and snapshots (default: $THAW_DATA_DIR or /var/lib/thaw).")
    public Path dataDir;

    @Option(names = "--accel", defaultValue = "auto",
            description = "VM accelerator: auto (KVM only where a guest is proven to boot under it), tcg or kvm. Default: ${DEFAULT-VALUE}.")
    String accel;

    @Option(names = "--idle-timeout", defaultValue = "60",
            description = "Seconds an idle instance is kept warm (the fixed keep-alive, and the histogram policy's fallback). Default: ${DEFAULT-VALUE}.")
    int idleTimeoutSeconds;

    @Option(names = "--keepalive-policy", defaultValue = "fixed", paramLabel = "fixed|histogram",
            description = "When idle instances stop and are started again. fixed: each stops after --idle-timeout idle. "
                    + "histogram: the hybrid histogram policy of Shahrad et al. (ATC'20): per function, a histogram of the "
                    + "times between its calls sets a pre-warm window (5th percentile - 10%%: stop everything, start one "
                    + "instance again when it ends) and a keep-alive window (to the 99th percentile + 10%%); a function "
                    + "with fewer than 10 idle times, or whose histogram is not representative, gets the fixed policy. "
                    + "Reported in /healthz. Default: ${DEFAULT-VALUE}.")
    String keepalivePolicy;

    @Option(names = "--histogram-bin", defaultValue = "60", paramLabel = "SECONDS",
            description = "histogram policy: bin width in seconds of the idle-time histogram (240 bins). The paper's is "
                    + "60; for a trace replayed N times faster use 60/N (fractions allowed). Default: ${DEFAULT-VALUE}.")
    double histogramBinSeconds;

    @Option(names = "--concurrency-target", defaultValue = "0.8", paramLabel = "X",
            description = "Calls in flight per instance the autoscaler aims at (more than 0, at most 1), for functions "
                    + "without \"concurrency_target\" in their function.json; it restores ahead of a rising rate "
                    + "(6 s panic window) and lets instances go after a 60 s stable window. Default: ${DEFAULT-VALUE}.")
    double concurrencyTarget;

    @Option(names = "--restore-slots", paramLabel = "N",
            description = "Restores for warm misses and the autoscaler that may run at once (CPU headroom for the "
                    + "instances serving calls); beyond it calls wait for an instance or a slot. Explicit restore modes "
                    + "and POST /prewarm do not take one. Default: one per two cores, at least 1.")
    Integer restoreSlots;

    @Option(names = "--max-queue-wait", paramLabel = "MS",
            description = "Refuse a call at once (429 overloaded, Retry-After 1) when it could wait longer than this "
                    + "many milliseconds for an instance and a restore cannot serve it sooner: judged by the 90th percentile "
                    + "of the function's recent service times (not their mean) and never less than the oldest waiting "
                    + "call's wait so far, so a stall is refused as it happens. Default: never.")
    Integer maxQueueWaitMs;

    @Option(names = "--prime", defaultValue = "auto", paramLabel = "auto|off",
            description = "Prime instances restored ahead of demand (POST /prewarm, min_warm, the autoscaler's and the "
                    + "keep-alive policy's restores) before offering them to calls: one invoke with the function's record "
                    + "input (else its test input, else {}) that carries the restore's reseed, its result discarded and not "
                    + "counted as an invocation (time in GET /stats: prime_ms). A warm miss is never primed: its caller's "
                    + "call goes first. auto: every function but those with \"prime\": false in function.json; off: none. "
                    + "Default: ${DEFAULT-VALUE}.")
    String prime;

    @Option(names = "--max-idle", defaultValue = "4", description = "Idle instances kept per function. Default: ${DEFAULT-VALUE}.")
    int maxIdle;

    @Option(names = "--max-instances", description = "Running instances allowed across all functions. Default: 8 per core (at least 4).")
    Integer maxInstances;

    @Option(names = "--memory-budget-mib", description = "Guest memory (MiB) all running instances may sum to. Default: 3/4 of host memory.")
    Long memoryBudgetMib;

    @Option(names = "--concurrency", description = "Invocations of one function running at once. Default: 4 per core (at least 2).")
    Integer concurrency;

    @Option(names = "--queue-depth", defaultValue = "64", description = "Invocations of one function that may wait for a slot; more get 429. Default: ${DEFAULT-VALUE}.")
    int queueDepth;

    @Option(names = "--queue-timeout", defaultValue = "30", description = "Seconds an invocation may wait in its queue before a 429. Default: ${DEFAULT-VALUE}.")
    int queueTimeoutSeconds;

    @Option(names = "--result-ttl", defaultValue = "600", description = "Seconds results of async invocations are kept. Default: ${DEFAULT-VALUE}.")
    int resultTtlSeconds;

    @Option(names = "--max-traces", defaultValue = "1000", description = "Recent traces kept in memory for GET /traces. Default: ${DEFAULT-VALUE}.")
    int maxTraces;

    @Option(names = "--otlp-endpoint", description = "Also export spans over OTLP/HTTP to this URL, e.g. http://127.0.0.1:4318/v1/traces.")
    String otlpEndpoint;

    @Option(names = "--max-call-depth", defaultValue = "16", description = "Deepest chain of functions calling functions (stops cycles). Default: ${DEFAULT-VALUE}.")
    int maxCallDepth;

    @Option(names = "--vmm-thp-advice", defaultValue = "drop", paramLabel = "keep|drop",
            description = "QEMU advises transparent huge pages over guest RAM (MADV_HUGEPAGE). A restored VM maps its "
                    + "memory file private, where no huge page is ever used, but the advice makes each page fault read "
                    + "about 4 MiB whatever read_ahead_kb says. drop (default) filters the advice out with seccomp, so "
                    + "restores page like Firecracker's, the VMM of the REAP and FaaSnap papers; keep leaves QEMU as it is.")
    String vmmThpAdvice;

    @Option(names = "--record-method", defaultValue = "uffd", paramLabel = "uffd|pagemap",
            description = "How a deploy records the working set that reap and faasnap prefetch. uffd (default, REAP's method): "
                    + "restore through thaw's userfaultfd page server and log every fault, the exact pages in first-touch order; "
                    + "pagemap: sample QEMU's page tables every 4 ms over a file mapping, which also counts the kernel's "
                    + "fault-around. Both are recorded at every deploy so both sizes are reported; this picks the one restores use.")
    String recordMethod;

    @Option(names = "--vmm-pool", defaultValue = "1", paramLabel = "N",
            description = "Pre-started VMMs kept per machine shape (guest image, memory, vCPUs, accelerator) of the deployed "
                    + "functions: QEMUs waiting paused with guest RAM already behind userfaultfd, which a thaw-mode restore binds "
                    + "to its snapshot instead of starting QEMU (vmm_bind instead of vmm_start). Each counts in --max-instances and "
                    + "--memory-budget-mib like an instance, is never started past them, and is the first thing given up when a "
                    + "restore needs room; refilled in the background after each use. 0 disables the pool. Default: ${DEFAULT-VALUE}.")
    int vmmPool;

    @Option(names = "--guest-max-line-bytes", defaultValue = "8388608",
            description = "Longest line (one JSON message, e.g. a result) a guest may send the host; a longer one fails the "
                    + "invocation (result_too_large or guest_protocol) and discards the VM. Default: ${DEFAULT-VALUE} (8 MiB).")
    int guestMaxLineBytes;

    @Option(names = "--guest-max-calls-in-flight", defaultValue = "16",
            description = "Calls to other functions one guest may have outstanding at once; more discard the VM (too_many_calls). Default: ${DEFAULT-VALUE}.")
    int guestMaxCallsInFlight;

    @Option(names = "--guest-max-calls", defaultValue = "1000",
            description = "Calls to other functions one invocation may make in all; more discard the VM (too_many_calls). Default: ${DEFAULT-VALUE}.")
    int guestMaxCalls;

    @Option(names = "--vmm-jail", defaultValue = "auto", paramLabel = "auto|on|off",
            description = "Confine every QEMU: an unprivileged user (thaw-vm, created if missing) without capabilities, "
                    + "its own mount, PID, network, IPC and UTS namespaces, a root holding only its files (snapshot files "
                    + "read-only), and a cgroup of its own limited to the VM's memory plus --vmm-memory-overhead-mib, its "
                    + "vCPUs plus one core, and a task count. auto (default) jails when the daemon runs as root and the host "
                    + "has what it needs, and otherwise runs QEMU unjailed with the reason in GET /healthz (vmm_jail); on "
                    + "refuses to start without the jail; off never jails. Default: ${DEFAULT-VALUE}.")
    String vmmJail;

    @Option(names = "--vmm-memory-overhead-mib", defaultValue = "" + Jail.Options.DEFAULT_OVERHEAD_MIB,
            description = "Memory a jailed QEMU may use beyond its guest's RAM (TCG's translated code, device buffers); past "
                    + "guest RAM plus this, the kernel kills that VM alone (502). Default: ${DEFAULT-VALUE}.")
    long vmmMemoryOverheadMib;

    Jail jail(Path cache) {
        return Jail.setUp(new Jail.Options(Jail.Mode.parse(vmmJail), cache, vmmMemoryOverheadMib));
    }

    GuestLimits guestLimits() {
        return new GuestLimits(guestMaxLineBytes, guestMaxCallsInFlight, guestMaxCalls);
    }

    Limits limits() {
        Limits host = Limits.forHost();
        return new Limits(maxInstances != null ? maxInstances : host.maxInstances(),
                memoryBudgetMib != null ? memoryBudgetMib : host.memoryBudgetMib(),
                concurrency != null ? concurrency : host.concurrency(), queueDepth, Duration.ofSeconds(queueTimeoutSeconds));
    }

    Scaling scaling() {
        Duration fixed = Duration.ofSeconds(idleTimeoutSeconds);
        if (!(histogramBinSeconds > 0) || histogramBinSeconds > 86_400) {
            throw new IllegalArgumentException("--histogram-bin must be more than 0 and at most 86400 seconds, got " + histogramBinSeconds);
        }
        if (maxQueueWaitMs != null && maxQueueWaitMs < 1) throw new IllegalArgumentException("--max-queue-wait must be at least 1 ms, got " + maxQueueWaitMs);
        if (!(concurrencyTarget > 0 && concurrencyTarget <= 1)) {
            throw new IllegalArgumentException("--concurrency-target must be more than 0 and at most 1, got " + concurrencyTarget);
        }
        if (restoreSlots != null && restoreSlots < 1) throw new IllegalArgumentException("--restore-slots must be at least 1, got " + restoreSlots);
        if (!prime.equals("auto") && !prime.equals("off")) throw new IllegalArgumentException("--prime must be auto or off, got " + prime);
        var histogram = HistogramKeepAlive.Settings.PAPER.withBin(Duration.ofNanos(Math.round(histogramBinSeconds * 1e9)));
        return new Scaling(concurrencyTarget,
                restoreSlots != null ? restoreSlots : RestoreSlots.forCores(Runtime.getRuntime().availableProcessors()),
                maxQueueWaitMs == null ? null : Duration.ofMillis(maxQueueWaitMs), null,
                KeepAlivePolicy.parse(keepalivePolicy, fixed, histogram), null, prime.equals("auto"));
    }

    /** Builds the image if needed, chooses the accelerator, and opens the platform. */
    public Platform start() {
        Scaling scaling = scaling(); // bad options fail before the image is built
        if (vmmPool < 0) throw new IllegalArgumentException("--vmm-pool must be 0 or more, got " + vmmPool);
        Path cache = ThawDirs.cache();
        GuestImage image = new ImageBuilder(cache).ensure(Boot::progress);
        Path run = ThawDirs.run().resolve(Long.toString(ProcessHandle.current().pid()));
        Accel a = switch (accel.toLowerCase()) {
            case "tcg" -> Accel.TCG;
            case "kvm" -> Accel.KVM;
            case "auto" -> AccelProbe.choose(image, cache, run, Boot::progress);
            default -> throw new IllegalArgumentException("--accel must be auto, tcg or kvm, got " + accel);
        };
        Path data = dataDir != null ? dataDir.toAbsolutePath() : ThawDirs.data();
        Platform.Config cfg = new Platform.Config(data, run, cache, Duration.ofSeconds(60), maxIdle,
                Duration.ofSeconds(idleTimeoutSeconds), limits(), Duration.ofSeconds(resultTtlSeconds),
                maxTraces, otlpEndpoint, maxCallDepth, HugePageAdvice.parse(vmmThpAdvice), RecordMethod.parse(recordMethod));
        Platform p = new Platform(cfg, image, new QemuGuest.Launcher(run, a, cfg.hugePageAdvice(), cfg.bootTimeout(), guestLimits(), jail(cache)),
                scaling);
        p.vmmPool(vmmPool);
        Runtime.getRuntime().addShutdownHook(new Thread(p::close, "thaw-shutdown"));
        return p;
    }

    public static void progress(String line) {
        System.err.println("[thaw] " + line);
    }
}
