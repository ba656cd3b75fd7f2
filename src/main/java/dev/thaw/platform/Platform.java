package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.guest.AgentConnection;
import dev.thaw.flow.Tracing;
import dev.thaw.guest.GuestImage;
import dev.thaw.memory.PageCache;
import dev.thaw.memory.Prefetcher;
import dev.thaw.memory.ProcessStats;
import dev.thaw.memory.WorkingSet;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.snapshot.SnapshotCorruptException;
import dev.thaw.snapshot.SnapshotWriter;
import dev.thaw.vm.Accel;
import dev.thaw.vm.QemuVm;
import dev.thaw.vm.VmConfig;
import dev.thaw.vm.VmException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The platform facade: deployed functions, their snapshots, and the instances serving them.
 *
 * <p>The data path of an invocation: {@link #invoke} picks an instance by mode — an idle one
 * from the function's pool ({@code warm}), a restore from the snapshot ({@code vanilla}), or a
 * fresh boot ({@code cold}) — sends the event to the guest agent, and returns the instance to
 * the pool. Restores of one function run concurrently: each is its own QEMU mapping the same
 * memory file privately, so clones share the host page cache. An instance whose VM fails is
 * closed, never pooled, and the failure becomes a 502/504 for that call only.
 */
public final class Platform implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Platform.class.getName());

    /**
     * @param limits admission limits; {@code null} for the host-derived defaults
     * @param resultTtl how long results of asynchronous invocations are kept
     */
    public record Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout,
                         int maxIdlePerFunction, Duration idleTimeout, Limits limits, Duration resultTtl,
                         int maxTraces, String otlpEndpoint, int maxCallDepth) {
        public Config {
            if (limits == null) limits = Limits.forHost();
            if (resultTtl == null) resultTtl = Duration.ofMinutes(10);
            if (maxTraces <= 0) maxTraces = 1000;
            if (maxCallDepth <= 0) maxCallDepth = 16;
        }

        public Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout, int maxIdlePerFunction,
                      Duration idleTimeout, Limits limits, Duration resultTtl) {
            this(dataDir, runDir, cacheDir, bootTimeout, maxIdlePerFunction, idleTimeout, limits, resultTtl, 0, null, 0);
        }

        public Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout, int maxIdlePerFunction, Duration idleTimeout) {
            this(dataDir, runDir, cacheDir, bootTimeout, maxIdlePerFunction, idleTimeout, null, null);
        }

        public static Config defaults(Path dataDir, Path runDir, Path cacheDir) {
            return new Config(dataDir, runDir, cacheDir, Duration.ofSeconds(60), 4, Duration.ofSeconds(60));
        }
    }

    /** A deployed function: its spec, its directory in the data dir, its snapshot and working-set record. */
    record Deployed(FunctionSpec spec, Path dir, Snapshot snapshot, WorkingSet workingSet) {
        static Deployed open(FunctionSpec spec, Path dir) {
            Snapshot snap = Snapshot.open(dir.resolve("snapshot"));
            WorkingSet ws = null;
            if (snap.has(Snapshot.WORKING_SET)) {
                try {
                    ws = WorkingSet.read(snap.dir().resolve(Snapshot.WORKING_SET));
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "unreadable working-set record of " + spec.name() + ": " + e.getMessage());
                }
            }
            return new Deployed(spec, dir, snap, ws);
        }

        /** The strategy for a warm call that finds no idle instance. */
        Mode defaultRestore() {
            return Mode.parse(spec.restore());
        }

        /** The record, if it belongs to this very snapshot (a stale one is worse than none). */
        WorkingSet currentWorkingSet() {
            return workingSet != null && workingSet.snapshotId().equals(snapshot.manifest().snapshotId()) ? workingSet : null;
        }
    }

    private final Config config;
    private final GuestImage image;
    private final Accel accel;
    private final Metrics metrics = new Metrics();
    private final Admission admission;
    private final AsyncInvocations async;
    private final Tracing tracing;
    /** Invocations in flight by id: a guest's call names its invocation, which becomes the callee's parent. */
    private final Map<String, Call> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Deployed> functions = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> deployLocks = new ConcurrentHashMap<>();
    private final Map<String, Instance> instances = new ConcurrentHashMap<>();
    private final Map<String, Deque<Instance>> idle = new ConcurrentHashMap<>();
    private final Thread reaper;
    private volatile boolean closed;

    public Platform(Config config, GuestImage image, Accel accel) {
        this.config = config;
        this.image = image;
        this.accel = accel;
        this.admission = new Admission(config.limits(), metrics);
        this.async = new AsyncInvocations(this, config.resultTtl());
        this.tracing = new Tracing(config.maxTraces(), config.otlpEndpoint());
        try {
            Files.createDirectories(functionsDir());
            Files.createDirectories(config.runDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + config.dataDir() + " or " + config.runDir(), e);
        }
        loadDeployed();
        metrics.gauge("thaw_instances", "Running instances by function and state", this::instanceCounts);
        reaper = Thread.ofVirtual().name("instance-reaper").start(this::reapIdle);
    }

    public Metrics metrics() {
        return metrics;
    }

    public Accel accel() {
        return accel;
    }

    public GuestImage image() {
        return image;
    }

    private Path functionsDir() {
        return config.dataDir().resolve("functions");
    }

    // ---------------------------------------------------------------- functions

    /** Finds the functions deployed before a restart; unfinished deploys are discarded. */
    private void loadDeployed() {
        try (Stream<Path> dirs = Files.list(functionsDir())) {
            for (Path dir : dirs.toList()) {
                String name = dir.getFileName().toString();
                if (name.startsWith(".")) {
                    FileTrees.delete(dir); // a deploy interrupted by a crash
                    continue;
                }
                try {
                    FunctionSpec spec = FunctionSpec.parse(Files.readString(dir.resolve("code/function.json")));
                    functions.put(spec.name(), Deployed.open(spec, dir));
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "skipping " + dir + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<FunctionInfo> functions() {
        return new TreeMap<>(functions).values().stream().map(this::info).toList();
    }

    public FunctionInfo function(String name) {
        return info(deployed(name));
    }

    private Deployed deployed(String name) {
        Deployed d = functions.get(name);
        if (d == null) throw ThawException.notFound("no function named \"" + name + "\" is deployed");
        return d;
    }

    private FunctionInfo info(Deployed d) {
        long running = instances.values().stream().filter(i -> i.function().equals(d.spec().name())).count();
        return new FunctionInfo(d.spec().name(), d.spec().runtime(), d.spec().memoryMib(), d.spec().vcpus(),
                d.spec().timeoutSeconds(), (int) running, d.snapshot().manifest());
    }

    /**
     * Deploys a function: boots a VM with its RAM in a file, loads the code, warms it up with its
     * record input, snapshots it, and stores everything under the data directory. Replaces an
     * earlier deployment of the same name only once the new one is complete.
     */
    public FunctionInfo deploy(FunctionBundle bundle) {
        FunctionSpec spec = bundle.spec();
        ReentrantLock lock = deployLocks.computeIfAbsent(spec.name(), k -> new ReentrantLock());
        lock.lock();
        Path staging = functionsDir().resolve(".staging-" + spec.name() + "-" + shortId());
        try {
            bundle.writeTo(staging.resolve("code"));
            Path snapDir = Files.createDirectories(staging.resolve("snapshot"));
            String snapshotId = SnapshotWriter.newId();
            VmConfig vmConfig = VmConfig.boot(image, spec.memoryMib(), spec.vcpus(), accel, snapDir.resolve(Snapshot.MEMORY));
            try (QemuVm vm = QemuVm.start(vmConfig, newRunDir("d-" + shortId()), config.bootTimeout());
                 AgentConnection agent = new AgentConnection(vm.agentChannel())) {
                agent.onCall(this::serveGuestCall);
                agent.awaitReady(config.bootTimeout());
                guestCall(agent, loadRequest(bundle), config.bootTimeout(), spec.name(), "loading");
                guestCall(agent, invokeRequest(spec.warmupEvent(), "warmup"), Duration.ofSeconds(spec.timeoutSeconds()), spec.name(), "warm-up");
                vm.snapshot(snapDir.resolve(Snapshot.VMSTATE), config.bootTimeout());
            } catch (VmException e) {
                throw new ThawException(502, "deploy_failed", "deploying " + spec.name() + ": " + e.getMessage(), null, e);
            }
            if (spec.record()) recordWorkingSet(snapDir, snapshotId, spec, vmConfig);
            SnapshotWriter.seal(snapDir, snapshotId, spec.name(), image, vmConfig);
            Path dir = functionsDir().resolve(spec.name());
            Path old = functionsDir().resolve(".old-" + spec.name() + "-" + shortId());
            if (Files.exists(dir)) Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            functions.put(spec.name(), Deployed.open(spec, dir));
            stopInstancesOf(spec.name()); // they run the previous code
            FileTrees.delete(old);
            return function(spec.name());
        } catch (IOException e) {
            throw new UncheckedIOException("deploying " + spec.name(), e);
        } finally {
            FileTrees.delete(staging);
            lock.unlock();
        }
    }

    private void recordWorkingSet(Path snapDir, String snapshotId, FunctionSpec spec, VmConfig vmConfig) {
        try {
            Recorder.record(snapDir, snapshotId, spec, vmConfig, image, newRunDir("r-" + shortId()), config.bootTimeout(),
                    this::serveGuestCall);
        } catch (IOException | RuntimeException e) {
            // Without a record, reap and faasnap fall back to vanilla (with a warning); the snapshot stays usable.
            LOG.log(System.Logger.Level.WARNING, "recording the working set of " + spec.name() + " failed: " + e.getMessage());
        }
    }

    public void undeploy(String name) {
        Deployed d = deployed(name);
        functions.remove(name);
        stopInstancesOf(name);
        FileTrees.delete(d.dir());
    }

    // ---------------------------------------------------------------- invocations

    /**
     * Runs one invocation: waits for a concurrency slot of the function (bounded queue), then
     * {@link #invokeOnce}. Limits surface as 429s naming the limit.
     */
    public InvocationResult invoke(String function, JsonNode event, Mode mode) {
        return invoke(function, event, mode, Call.external(null));
    }

    public InvocationResult invoke(String function, JsonNode event, Mode mode, Call call) {
        deployed(function);
        try (Admission.Ticket ticket = admission.enter(function)) {
            ticket.awaitTurn();
            return invokeAdmitted(function, event, mode, call);
        } catch (ThawException e) {
            if (e.status() == 429) countError(function, e);
            throw e;
        }
    }

    /**
     * Accepts an invocation to run in the background: it takes its queue place now (a 429 if the
     * queue is full), and {@link #invocation} reports its progress and result.
     */
    public AsyncInvocations.Status invokeAsync(String function, JsonNode event, Mode mode, Call call) {
        deployed(function);
        Admission.Ticket ticket;
        try {
            ticket = admission.enter(function);
        } catch (ThawException e) {
            countError(function, e);
            throw e;
        }
        return async.submit(function, mode, ticket, () -> {
            try (ticket) {
                ticket.awaitTurn();
                return invokeAdmitted(function, event, mode, call);
            }
        });
    }

    public AsyncInvocations.Status invocation(String id) {
        return async.get(id);
    }

    private void countError(String function, ThawException e) {
        metrics.increment("thaw_invocation_errors_total", "Failed invocations by error code",
                Metrics.labels("code", e.code(), "function", function));
    }

    private InvocationResult invokeAdmitted(String function, JsonNode event, Mode mode, Call call) {
        try {
            return invokeOnce(function, event, mode, call);
        } catch (ThawException e) {
            metrics.increment("thaw_invocation_errors_total", "Failed invocations by error code",
                    Metrics.labels("code", e.code(), "function", function));
            throw e;
        }
    }

    private InvocationResult invokeOnce(String function, JsonNode event, Mode mode, Call call) {
        Deployed d = deployed(function);
        if (mode == Mode.CACHED) warmPageCache(d); // the precondition of the upper bound, not part of its time
        String invocationId = "inv-" + shortId() + shortId();
        List<String> warnings = new ArrayList<>();
        Timing.Clock clock = new Timing.Clock();
        InvocationSpan span = new InvocationSpan(tracing, function, invocationId, mode, call, clock);
        Instance inst = null;
        String coldStart = null;
        String status = "error";
        Restore restore = null;
        try {
            if (mode == Mode.WARM) inst = takeIdle(function);
            ProcessStats before = inst == null ? null : processStats(inst);
            if (inst == null && mode == Mode.COLD) {
                coldStart = "cold";
                inst = boot(d, clock);
            } else if (inst == null) {
                restore = restore(d, mode == Mode.WARM ? d.defaultRestore() : mode, clock,
                        mode == Mode.WARM ? new ArrayList<>() : warnings);
                coldStart = restore.strategy().id();
                inst = restore.instance();
            }
            inFlight.put(invocationId, new Call(span.beginGuestExec(), call.depth(), false));
            JsonNode reply = inst.agent().request(invokeRequest(event, invocationId), Duration.ofSeconds(d.spec().timeoutSeconds()));
            InvocationResult.MemoryStats memory = memoryStats(inst, before, d.currentWorkingSet());
            if (restore != null && restore.prefetch() != null) {
                Prefetcher.Result r = restore.prefetch().handle((res, e) -> res).join();
                if (r != null) clock.concurrentPrefetch(restore.prefetchStartNanos(), r.millis());
            }
            Timing timing = clock.finish(reply.path("exec_ms").asDouble());
            Instance done = inst;
            inst = null;
            release(done);
            span.finished(timing, coldStart, done.id(), reply.path("ok").asBoolean());
            if (!reply.path("ok").asBoolean()) throw handlerError(function, reply);
            status = "ok";
            metrics.observe("thaw_invocation_duration_seconds", "Invocation latency seen by the platform",
                    Metrics.labels("function", function, "mode", mode.id()), timing.total() / 1000);
            return new InvocationResult(invocationId, function, reply.get("result"), done.id(), mode.id(), coldStart, timing,
                    memory, warnings.isEmpty() ? null : warnings, span.traceId(), span.traceparent());
        } catch (VmException.Timeout e) {
            throw new ThawException(504, "vm_timeout", function + ": " + e.getMessage(), null, e);
        } catch (VmException e) {
            throw new ThawException(502, "vm_failed", function + ": " + e.getMessage(), null, e);
        } catch (SnapshotCorruptException e) {
            throw new ThawException(500, "snapshot_corrupt", e.getMessage(), null, e);
        } finally {
            inFlight.remove(invocationId);
            span.end(); // a no-op when finished() ended it; otherwise it records the failure
            if (inst != null) discard(inst);
            metrics.increment("thaw_invocations_total", "Invocations by function, mode and outcome",
                    Metrics.labels("function", function, "mode", mode.id(), "status", status));
            if (coldStart != null) {
                metrics.increment("thaw_cold_starts_total", "Instances started for an invocation, by strategy",
                        Metrics.labels("function", function, "strategy", coldStart));
            }
        }
    }

    /**
     * Serves a handler's call to another function ({@code thaw.invoke} in the guest): a normal
     * invocation whose trace parent is the calling invocation. Failures go back to the caller as
     * an error reply, which the guest library raises as {@code thaw.InvocationError}.
     */
    private JsonNode serveGuestCall(JsonNode msg) {
        String callee = msg.path("function").asText("");
        Call parent = inFlight.get(msg.path("parent").asText(""));
        int depth = parent == null ? 1 : parent.depth() + 1;
        ObjectNode reply = Json.object();
        try {
            if (depth > config.maxCallDepth()) {
                throw new ThawException(508, "call_depth", "call to " + callee + " exceeds the call depth limit of "
                        + config.maxCallDepth() + " (a cycle of calls?)");
            }
            // thaw.invoke_async only lets the handler wait later (Handle.result()); it is a parallel
            // call, not fire-and-forget. Marking it async (FOLLOWS_FROM) took every such call off the
            // critical path. A call that really outlives its caller is still followed as async work
            // by the analysis (it ends after its parent).
            Call call = new Call(parent == null ? io.opentelemetry.context.Context.root() : parent.parent(), depth, false);
            InvocationResult r = invoke(callee, msg.path("event"), Mode.WARM, call);
            reply.put("ok", true).set("result", r.result());
        } catch (ThawException e) {
            reply.put("ok", false).putObject("error").put("type", "InvocationError").put("code", e.code())
                    .put("status", e.status()).put("message", e.getMessage());
        }
        return reply;
    }

    /** A restored instance, the strategy actually used, and FaaSnap's prefetch still running beside it. */
    private record Restore(Instance instance, Mode strategy, CompletableFuture<Prefetcher.Result> prefetch, long prefetchStartNanos) {}

    /**
     * Restores an instance from the function's snapshot with one of the strategies of design.md §2.
     * The whole data path of a restore is here: optional concurrent prefetch (faasnap), VMM start,
     * device-state load, optional synchronous working-set load (reap), resume.
     */
    private Restore restore(Deployed d, Mode strategy, Timing.Clock clock, List<String> warnings) {
        Snapshot snap = d.snapshot();
        snap.verify();
        WorkingSet ws = d.currentWorkingSet();
        boolean needsRecord = strategy == Mode.REAP || strategy == Mode.FAASNAP;
        if (needsRecord && (ws == null || (strategy == Mode.FAASNAP && !snap.has(Snapshot.SPARSE_MEMORY)))) {
            warnings.add("no current working-set record for " + d.spec().name() + "'s snapshot; restored with vanilla instead of " + strategy.id());
            strategy = Mode.VANILLA;
        }
        Path memory = strategy == Mode.FAASNAP ? snap.sparseMemoryFile() : snap.memoryFile();
        long prefetchStart = System.nanoTime();
        CompletableFuture<Prefetcher.Result> prefetch = strategy == Mode.FAASNAP ? Prefetcher.start(memory, ws.faasnapRuns()) : null;
        var m = snap.manifest().machine();
        VmConfig cfg = VmConfig.restore(imageFor(snap), m.memoryMib(), m.vcpus(), Accel.valueOf(m.accel().toUpperCase()),
                memory, snap.vmstateFile());
        String id = "i-" + shortId();
        reserveInstance(m.memoryMib());
        QemuVm vm;
        try {
            vm = QemuVm.start(cfg, newRunDir(id), config.bootTimeout());
        } catch (RuntimeException e) {
            admission.releaseInstance(m.memoryMib());
            throw e;
        }
        clock.phase("vmm_start");
        try {
            vm.loadState(config.bootTimeout());
            clock.phase("state_load");
            if (strategy == Mode.REAP) {
                Prefetcher.load(memory, ws.reapRuns());
                clock.phase("prefetch");
            }
            AgentConnection agent = new AgentConnection(vm.agentChannel());
            agent.onCall(this::serveGuestCall);
            vm.resume();
            clock.phase("resume");
            metrics.observe("thaw_restore_duration_seconds", "Time from request to a resumed VM, by strategy",
                    Metrics.labels("strategy", strategy.id()), clock.coldStartMs() / 1000);
            return new Restore(register(new Instance(id, d.spec().name(), strategy.id(), m.memoryMib(), vm, agent)), strategy, prefetch, prefetchStart);
        } catch (IOException e) {
            vm.close();
            admission.releaseInstance(m.memoryMib());
            throw new UncheckedIOException("prefetching the working set of " + d.spec().name(), e);
        } catch (RuntimeException e) {
            vm.close();
            admission.releaseInstance(m.memoryMib());
            throw e;
        }
    }

    /** Makes every file of the snapshot resident, reading only what is not already cached. */
    private void warmPageCache(Deployed d) {
        for (Path f : snapshotFiles(d.spec().name())) {
            try {
                if (PageCache.residentCount(f) < (Files.size(f) + 4095) / 4096) PageCache.touchSequential(f);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load " + f + " into the page cache", e);
            }
        }
    }

    private static ProcessStats processStats(Instance inst) {
        try {
            return ProcessStats.of(inst.vm().pid());
        } catch (IOException e) {
            return null;
        }
    }

    /** The VMM's major faults and disk reads during this invocation (since it started, for a new instance). */
    private static InvocationResult.MemoryStats memoryStats(Instance inst, ProcessStats before, WorkingSet ws) {
        ProcessStats now = processStats(inst);
        if (now == null) return null;
        ProcessStats delta = before == null ? now : now.minus(before);
        return new InvocationResult.MemoryStats(delta.majorFaults(), delta.readBytes(),
                ws == null ? null : ws.workingSetPages(), ws == null ? null : ws.loadingSetPages());
    }

    private Instance boot(Deployed d, Timing.Clock clock) {
        FunctionSpec spec = d.spec();
        String id = "i-" + shortId();
        reserveInstance(spec.memoryMib());
        QemuVm vm;
        try {
            vm = QemuVm.start(VmConfig.boot(image, spec.memoryMib(), spec.vcpus(), accel, null), newRunDir(id), config.bootTimeout());
        } catch (RuntimeException e) {
            admission.releaseInstance(spec.memoryMib());
            throw e;
        }
        clock.phase("vmm_start");
        AgentConnection agent = new AgentConnection(vm.agentChannel());
        agent.onCall(this::serveGuestCall);
        Instance inst = register(new Instance(id, spec.name(), "cold", spec.memoryMib(), vm, agent));
        try {
            agent.awaitReady(config.bootTimeout());
            clock.phase("boot");
            guestCall(agent, loadRequest(FunctionBundle.fromDirectory(d.dir().resolve("code"))), config.bootTimeout(), spec.name(), "loading");
            clock.phase("function_load");
            return inst;
        } catch (RuntimeException e) {
            discard(inst);
            throw e;
        }
    }

    private GuestImage imageFor(Snapshot snap) {
        String key = snap.manifest().imageKey();
        if (key.equals(image.key())) return image;
        Path dir = config.cacheDir().resolve("images").resolve(key);
        if (!Files.isRegularFile(dir.resolve("rootfs.ext4"))) {
            throw new ThawException(409, "snapshot_stale", "function " + snap.manifest().function()
                    + " was snapshotted with guest image " + key + ", which is no longer cached; deploy it again");
        }
        try {
            return new GuestImage(key, dir, Files.readString(dir.resolve("kernel.release")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ThawException handlerError(String function, JsonNode reply) {
        JsonNode err = reply.path("error");
        ObjectNode details = Json.object();
        details.put("type", err.path("type").asText());
        details.put("traceback", err.path("traceback").asText());
        return new ThawException(500, "handler_error", function + " raised " + err.path("type").asText() + ": "
                + err.path("message").asText(), details, null);
    }

    private static JsonNode guestCall(AgentConnection agent, ObjectNode request, Duration timeout, String function, String what) {
        JsonNode reply = agent.request(request, timeout);
        if (!reply.path("ok").asBoolean()) {
            ThawException h = handlerError(function, reply);
            throw new ThawException(400, "deploy_failed", what + " " + function + " failed: " + h.getMessage(), h.details(), null);
        }
        return reply;
    }

    static ObjectNode loadRequest(FunctionBundle bundle) {
        ObjectNode req = Json.object().put("op", "load");
        req.putObject("function").put("name", bundle.spec().name());
        ObjectNode files = req.putObject("files");
        Base64.Encoder b64 = Base64.getEncoder();
        bundle.files().forEach((path, bytes) -> files.put(path, b64.encodeToString(bytes)));
        return req;
    }

    static ObjectNode invokeRequest(JsonNode event, String invocationId) {
        ObjectNode req = Json.object().put("op", "invoke").put("invocation", invocationId);
        java.time.Instant now = java.time.Instant.now();
        req.put("clock_ns", now.getEpochSecond() * 1_000_000_000L + now.getNano());
        req.set("event", event == null ? Json.object() : event);
        return req;
    }

    // ---------------------------------------------------------------- instances

    private Instance register(Instance inst) {
        instances.put(inst.id(), inst);
        inst.markBusy();
        return inst;
    }

    private Instance takeIdle(String function) {
        Deque<Instance> q = idle.get(function);
        if (q == null) return null;
        for (Instance inst; (inst = q.pollFirst()) != null; ) {
            if (inst.alive()) {
                inst.markBusy();
                return inst;
            }
            discard(inst);
        }
        return null;
    }

    /** Returns a healthy instance to its function's pool (most recently used first). */
    private void release(Instance inst) {
        Deque<Instance> q = idle.computeIfAbsent(inst.function(), k -> new ConcurrentLinkedDeque<>());
        Deployed d = functions.get(inst.function());
        int cap = Math.max(config.maxIdlePerFunction(), d == null ? 0 : d.spec().minWarm());
        if (closed || !inst.alive() || d == null || q.size() >= cap) {
            discard(inst);
            return;
        }
        inst.markIdle();
        q.addFirst(inst);
    }

    /**
     * Reserves admission budget for a new instance, evicting the longest-idle instances of any
     * function to make room; a 429 naming the limit when even that is not enough.
     */
    private void reserveInstance(int memoryMib) {
        while (!admission.reserveInstance(memoryMib)) {
            Instance victim = null;
            for (Deque<Instance> q : idle.values()) {
                Instance last = q.peekLast();
                if (last != null && (victim == null || last.idleSinceNanos() < victim.idleSinceNanos())) victim = last;
            }
            if (victim == null) throw admission.budgetExhausted(memoryMib);
            Deque<Instance> q = idle.get(victim.function());
            if (q != null && q.remove(victim)) discard(victim);
        }
    }

    private void discard(Instance inst) {
        if (instances.remove(inst.id()) != null) admission.releaseInstance(inst.memoryMib());
        Deque<Instance> q = idle.get(inst.function());
        if (q != null) q.remove(inst);
        inst.close();
    }

    /**
     * Once a second: stops instances idle past the keep-alive time (never below a function's
     * {@code min_warm}), restores instances up to {@code min_warm}, and forgets expired async results.
     */
    private void reapIdle() {
        while (!closed) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            long cutoff = System.nanoTime() - config.idleTimeout().toNanos();
            for (Deployed d : functions.values()) {
                String f = d.spec().name();
                long running = instances.values().stream().filter(i -> i.function().equals(f)).count();
                Deque<Instance> q = idle.getOrDefault(f, new ConcurrentLinkedDeque<>());
                for (var it = q.descendingIterator(); it.hasNext() && running > d.spec().minWarm(); ) {
                    Instance inst = it.next();
                    if (inst.idleSinceNanos() < cutoff && q.remove(inst)) {
                        discard(inst);
                        running--;
                    }
                }
                if (running < d.spec().minWarm()) {
                    try {
                        prewarm(f, (int) (d.spec().minWarm() - running));
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "keeping " + f + " warm failed: " + e.getMessage());
                    }
                }
            }
            async.purgeExpired();
        }
    }

    /**
     * Restores {@code count} instances of a function (concurrently, with its default strategy)
     * and parks them idle, ready for warm calls. Returns their ids.
     */
    public List<String> prewarm(String function, int count) {
        Deployed d = deployed(function);
        if (count < 1 || count > 64) throw ThawException.badRequest("count must be 1..64, got " + count);
        List<CompletableFuture<Instance>> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(CompletableFuture.supplyAsync(() -> restore(d, d.defaultRestore(), new Timing.Clock(), new ArrayList<>()).instance(),
                    r -> Thread.ofVirtual().start(r)));
        }
        List<String> ids = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<Instance> f : started) {
            try {
                Instance inst = f.join();
                inst.markIdle();
                idle.computeIfAbsent(function, k -> new ConcurrentLinkedDeque<>()).addFirst(inst);
                ids.add(inst.id());
            } catch (java.util.concurrent.CompletionException e) {
                failure = e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
            }
        }
        if (ids.isEmpty() && failure != null) throw failure;
        return ids;
    }

    public List<Instance.Info> instances() {
        return instances.values().stream().map(Instance::info).sorted(Comparator.comparing(Instance.Info::id)).toList();
    }

    public void stopInstance(String id) {
        Instance inst = instances.get(id);
        if (inst == null) throw ThawException.notFound("no instance " + id);
        discard(inst);
    }

    private void stopInstancesOf(String function) {
        for (Instance inst : new ArrayList<>(instances.values())) {
            if (inst.function().equals(function)) discard(inst);
        }
    }

    private Map<String, Long> instanceCounts() {
        Map<String, Long> out = new TreeMap<>();
        for (Instance inst : instances.values()) {
            out.merge(Metrics.labels("function", inst.function(), "state", inst.state().name().toLowerCase()), 1L, Long::sum);
        }
        return out;
    }

    /** The snapshots of all deployed functions, for {@code GET /snapshots}. */
    public Collection<ObjectNode> snapshots() {
        List<ObjectNode> out = new ArrayList<>();
        for (Deployed d : new TreeMap<>(functions).values()) {
            ObjectNode o = Json.MAPPER.valueToTree(d.snapshot().manifest());
            o.put("path", d.snapshot().dir().toString());
            out.add(o);
        }
        return out;
    }

    /**
     * Makes the next restore of {@code function} a cold-cache one: stops its idle instances (a
     * mapped page cannot be evicted) and drops every snapshot file and the root disk image from
     * the page cache. Returns the files dropped.
     */
    public List<Path> dropPageCache(String function) {
        Deque<Instance> q = idle.get(function);
        if (q != null) for (Instance inst; (inst = q.pollFirst()) != null; ) discard(inst);
        List<Path> files = snapshotFiles(function);
        for (Path f : files) {
            try {
                PageCache.drop(f);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot drop " + f + " from the page cache", e);
            }
        }
        return files;
    }

    /** Files of a function's snapshot, for page-cache control by benchmarks and the demo. */
    public List<Path> snapshotFiles(String function) {
        List<Path> files = new ArrayList<>(deployed(function).snapshot().files());
        files.add(imageFor(deployed(function).snapshot()).rootfs());
        return files;
    }

    private Path newRunDir(String id) {
        try {
            return Files.createDirectories(config.runDir().resolve(id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String shortId() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 32 | 0x1_0000_0000L).substring(1);
    }

    public Tracing tracing() {
        return tracing;
    }

    @Override
    public void close() {
        closed = true;
        tracing.close();
        reaper.interrupt();
        for (Instance inst : new ArrayList<>(instances.values())) discard(inst);
    }

}
