package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.flow.Tracing;
import dev.thaw.guest.GuestImage;
import dev.thaw.memory.PageCache;
import dev.thaw.memory.Prefetcher;
import dev.thaw.memory.ProcessStats;
import dev.thaw.snapshot.SnapshotCorruptException;
import dev.thaw.vm.Accel;
import dev.thaw.vm.HugePageAdvice;
import dev.thaw.vm.VmException;
import io.opentelemetry.context.Context;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The platform facade: deployed functions, their snapshots, and the instances serving them.
 *
 * <p>The data path of an invocation: {@link #invoke} waits for a concurrency slot of the function
 * ({@link Admission}), takes an idle instance from the {@link InstancePool} ({@code warm}) or has
 * the {@link Restorer} restore one from the snapshot (or boot one, for {@code cold}), sends the
 * event to the guest agent, and returns the instance to the pool. Restores of one function run
 * concurrently: each is its own QEMU mapping the same memory file privately, so clones share the
 * host page cache. An instance whose VM fails is discarded, never pooled, and the failure becomes
 * a 502/504 for that call only. Deploying is the {@link Deployer}'s job, in a staging directory
 * that replaces the old deployment only when complete.
 */
public final class Platform implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Platform.class.getName());

    /**
     * @param limits        admission limits; {@code null} for the host-derived defaults
     * @param resultTtl     how long results of asynchronous invocations are kept
     * @param maxTraces     recent traces kept in memory
     * @param otlpEndpoint  where spans are also exported (OTLP/HTTP), or null
     * @param maxCallDepth  deepest chain of functions calling functions
     */
    public record Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout,
                         int maxIdlePerFunction, Duration idleTimeout, Limits limits, Duration resultTtl,
                         int maxTraces, String otlpEndpoint, int maxCallDepth, HugePageAdvice hugePageAdvice) {
        public Config {
            if (hugePageAdvice == null) hugePageAdvice = HugePageAdvice.DROP;
            if (limits == null) limits = Limits.forHost();
            if (resultTtl == null) resultTtl = Duration.ofMinutes(10);
            if (maxTraces <= 0) maxTraces = 1000;
            if (maxCallDepth <= 0) maxCallDepth = 16;
        }

        public Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout, int maxIdlePerFunction,
                      Duration idleTimeout, Limits limits, Duration resultTtl) {
            this(dataDir, runDir, cacheDir, bootTimeout, maxIdlePerFunction, idleTimeout, limits, resultTtl, 0, null, 0, null);
        }

        public Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout, int maxIdlePerFunction, Duration idleTimeout) {
            this(dataDir, runDir, cacheDir, bootTimeout, maxIdlePerFunction, idleTimeout, null, null);
        }

        public static Config defaults(Path dataDir, Path runDir, Path cacheDir) {
            return new Config(dataDir, runDir, cacheDir, Duration.ofSeconds(60), 4, Duration.ofSeconds(60));
        }

        /** A fresh directory for one VM's sockets and logs. */
        Path newRunDir(String id) {
            try {
                return Files.createDirectories(runDir.resolve(id));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Path functionsDir() {
            return dataDir.resolve("functions");
        }
    }

    private final Config config;
    private final GuestImage image;
    private final Accel accel;
    private final Metrics metrics = new Metrics();
    private final java.util.concurrent.CountDownLatch verified = new java.util.concurrent.CountDownLatch(1);
    private final Admission admission;
    private final InstancePool pool;
    private final Restorer restorer;
    private final Deployer deployer;
    private final AsyncInvocations async;
    private final Tracing tracing;
    private final Map<String, Deployed> functions = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> deployLocks = new ConcurrentHashMap<>();
    /** Invocations in flight by id: a guest's call names its invocation, which becomes the callee's parent. */
    private final Map<String, Call> inFlight = new ConcurrentHashMap<>();
    private final Thread reaper;
    private volatile boolean closed;

    public Platform(Config config, GuestImage image, Accel accel) {
        this.config = config;
        this.image = image;
        this.accel = accel;
        this.admission = new Admission(config.limits(), metrics);
        this.pool = new InstancePool(admission);
        this.restorer = new Restorer(config, image, accel, pool, metrics, this::serveGuestCall);
        this.deployer = new Deployer(config, image, accel, this::serveGuestCall);
        this.async = new AsyncInvocations(config.resultTtl());
        this.tracing = new Tracing(config.maxTraces(), config.otlpEndpoint());
        try {
            Files.createDirectories(config.functionsDir());
            Files.createDirectories(config.runDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + config.dataDir() + " or " + config.runDir(), e);
        }
        loadDeployed();
        Thread.ofVirtual().name("snapshot-verifier").start(this::verifyDeployed);
        metrics.gauge("thaw_instances", "Running instances by function and state", pool::counts);
        reaper = Thread.ofVirtual().name("instance-reaper").start(this::reapIdle);
    }

    public Metrics metrics() {
        return metrics;
    }

    /**
     * True once the start-up check of the snapshots found on disk is over. Until then it reads
     * whole memory files, so a benchmark that wants a quiet disk and a cold page cache waits.
     */
    public boolean snapshotsVerified() {
        return verified.getCount() == 0;
    }

    /** Whether QEMU's huge-page advice over guest RAM is kept or dropped (see {@link HugePageAdvice}). */
    public HugePageAdvice hugePageAdvice() {
        return config.hugePageAdvice();
    }

    public Accel accel() {
        return accel;
    }

    public GuestImage image() {
        return image;
    }

    public Tracing tracing() {
        return tracing;
    }

    // ---------------------------------------------------------------- functions

    /** Finds the functions deployed before a restart; unfinished deploys are discarded. */
    private void loadDeployed() {
        try (Stream<Path> dirs = Files.list(config.functionsDir())) {
            for (Path dir : dirs.toList()) {
                if (dir.getFileName().toString().startsWith(".")) {
                    FileTrees.delete(dir); // a deploy interrupted by a crash
                    continue;
                }
                try {
                    Deployed d = Deployed.open(dir);
                    functions.put(d.name(), d);
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "skipping " + dir + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Checks the checksums of the snapshots found at start-up, in the background, then drops
     * what the check read from the page cache: the first restore should find the cache as cold
     * as it was, and should not pay for reading whole memory files to verify them.
     */
    private void verifyDeployed() {
        try {
            verifyEach();
        } finally {
            verified.countDown();
        }
    }

    private void verifyEach() {
        for (Deployed d : List.copyOf(functions.values())) {
            try {
                d.snapshot().verify();
                for (Path f : d.snapshot().files()) PageCache.drop(f);
            } catch (SnapshotCorruptException e) {
                LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; restores of " + d.name() + " will fail until it is deployed again");
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "verifying " + d.name() + ": " + e);
            }
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
        FunctionSpec s = d.spec();
        return new FunctionInfo(s.name(), s.runtime(), s.memoryMib(), s.vcpus(), s.timeoutSeconds(), (int) pool.running(s.name()),
                d.snapshot().manifest(), d.codeHash(), d.plan() != null);
    }

    /**
     * Deploys a function (see {@link Deployer}) and stores it under the data directory, replacing
     * an earlier deployment of the same name only once the new one is complete.
     */
    public FunctionInfo deploy(FunctionBundle bundle) {
        String name = bundle.spec().name();
        ReentrantLock lock = deployLocks.computeIfAbsent(name, k -> new ReentrantLock());
        lock.lock();
        Path staging = config.functionsDir().resolve(".staging-" + name + "-" + Ids.shortId());
        try {
            deployer.build(bundle, staging);
            Path dir = config.functionsDir().resolve(name);
            Path old = config.functionsDir().resolve(".old-" + name + "-" + Ids.shortId());
            if (Files.exists(dir)) Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            functions.put(name, Deployed.openSealed(dir));
            pool.stopAll(name); // they run the previous code
            FileTrees.delete(old);
            return function(name);
        } catch (IOException e) {
            throw new UncheckedIOException("deploying " + name, e);
        } finally {
            FileTrees.delete(staging);
            lock.unlock();
        }
    }

    public void undeploy(String name) {
        Deployed d = deployed(name);
        functions.remove(name);
        pool.stopAll(name);
        FileTrees.delete(d.dir());
    }

    // ---------------------------------------------------------------- invocations

    public InvocationResult invoke(String function, JsonNode event, Mode mode) {
        return invoke(function, event, mode, Call.external(null));
    }

    /**
     * Runs one invocation: waits for a concurrency slot of the function (bounded queue), then
     * {@link #invokeOnce}. Limits surface as 429s naming the limit.
     */
    public InvocationResult invoke(String function, JsonNode event, Mode mode, Call call) {
        deployed(function);
        try (Admission.Ticket ticket = admission.enter(function)) {
            ticket.awaitTurn();
            return invokeOnce(function, event, mode, call);
        } catch (ThawException e) {
            countError(function, e);
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
                return invokeOnce(function, event, mode, call);
            } catch (ThawException e) {
                countError(function, e);
                throw e;
            }
        });
    }

    public AsyncInvocations.Status invocation(String id) {
        return async.get(id);
    }

    /** Counts a failed invocation by its error code (also for failures found before the platform saw it, e.g. a bad mode). */
    public void countError(String function, ThawException e) {
        metrics.increment("thaw_invocation_errors_total", "Failed invocations by error code",
                Metrics.labels("code", e.code(), "function", function));
    }

    private InvocationResult invokeOnce(String function, JsonNode event, Mode mode, Call call) {
        Deployed d = deployed(function);
        if (mode == Mode.CACHED) restorer.warmPageCache(d); // the upper bound's precondition, not part of its time
        String invocationId = "inv-" + Ids.shortId() + Ids.shortId();
        List<String> warnings = new ArrayList<>();
        Timing.Clock clock = new Timing.Clock();
        InvocationSpan span = new InvocationSpan(tracing, function, invocationId, mode, call, clock);
        Instance inst = null;
        String coldStart = null;
        String status = "error";
        Restorer.Restore restore = null;
        try {
            if (mode == Mode.WARM) inst = pool.takeIdle(function);
            ProcessStats before = inst == null ? null : processStats(inst);
            if (inst == null && mode == Mode.COLD) {
                coldStart = "cold";
                inst = restorer.boot(d, clock);
            } else if (inst == null) {
                // A warm miss restores with the function's own strategy and, unasked, stays quiet about fallbacks.
                restore = restorer.restore(d, mode == Mode.WARM ? d.defaultRestore() : mode, clock,
                        mode == Mode.WARM ? new ArrayList<>() : warnings);
                coldStart = restore.strategy().id();
                inst = restore.instance();
            }
            inFlight.put(invocationId, new Call(span.beginGuestExec(), call.depth(), false));
            JsonNode reply = inst.agent().request(GuestRequests.invoke(event, invocationId), Duration.ofSeconds(d.spec().timeoutSeconds()));
            InvocationResult.MemoryStats memory = memoryStats(inst, before, d.plan());
            if (restore != null && restore.prefetch() != null) {
                Prefetcher.Result r = restore.prefetch().handle((res, e) -> res).join();
                if (r != null) clock.concurrentPrefetch(restore.prefetchStartNanos(), r.millis());
            }
            Timing timing = clock.finish(reply.path("exec_ms").asDouble());
            Instance done = inst;
            inst = null;
            pool.release(done, Math.max(config.maxIdlePerFunction(), d.spec().minWarm()));
            boolean ok = reply.path("ok").asBoolean();
            span.finished(timing, coldStart, done.id(), ok);
            if (!ok) throw GuestRequests.handlerError(function, reply);
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
            if (inst != null) pool.discard(inst);
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
            // call, not fire-and-forget, so it is CHILD_OF like a blocking call. A call that really
            // outlives its caller is still followed as async work by the analysis (it ends after its parent).
            Call call = new Call(parent == null ? Context.root() : parent.parent(), depth, false);
            InvocationResult r = invoke(callee, msg.path("event"), Mode.WARM, call);
            reply.put("ok", true).set("result", r.result());
        } catch (ThawException e) {
            reply.put("ok", false).putObject("error").put("type", "InvocationError").put("code", e.code())
                    .put("status", e.status()).put("message", e.getMessage());
        }
        return reply;
    }

    private static ProcessStats processStats(Instance inst) {
        try {
            return ProcessStats.of(inst.vm().pid());
        } catch (IOException e) {
            return null;
        }
    }

    /** The VMM's major faults and disk reads during this invocation (since it started, for a new instance). */
    private static InvocationResult.MemoryStats memoryStats(Instance inst, ProcessStats before, Deployed.LoadPlan plan) {
        ProcessStats now = processStats(inst);
        if (now == null) return null;
        ProcessStats delta = before == null ? now : now.minus(before);
        return new InvocationResult.MemoryStats(delta.majorFaults(), delta.readBytes(),
                plan == null ? null : plan.workingSetPages(), plan == null ? null : plan.loadingSetPages());
    }

    // ---------------------------------------------------------------- instances

    /**
     * Restores {@code count} instances of a function (concurrently, with its default strategy)
     * and parks them idle, ready for warm calls. Returns their ids.
     */
    public List<String> prewarm(String function, int count) {
        Deployed d = deployed(function);
        if (count < 1 || count > 64) throw ThawException.badRequest("count must be 1..64, got " + count);
        List<CompletableFuture<Instance>> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(CompletableFuture.supplyAsync(
                    () -> restorer.restore(d, d.defaultRestore(), new Timing.Clock(), new ArrayList<>()).instance(),
                    r -> Thread.ofVirtual().start(r)));
        }
        List<String> ids = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<Instance> f : started) {
            try {
                Instance inst = f.join();
                pool.park(inst);
                ids.add(inst.id());
            } catch (CompletionException e) {
                failure = e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
            }
        }
        if (ids.isEmpty() && failure != null) throw failure;
        return ids;
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
                int minWarm = d.spec().minWarm();
                long running = pool.retireIdle(d.name(), cutoff, minWarm);
                if (running < minWarm) {
                    try {
                        prewarm(d.name(), (int) (minWarm - running));
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "keeping " + d.name() + " warm failed: " + e.getMessage());
                    }
                }
            }
            async.purgeExpired();
        }
    }

    public List<Instance.Info> instances() {
        return pool.infos();
    }

    public void stopInstance(String id) {
        pool.stop(id);
    }

    /** The snapshots of all deployed functions, for {@code GET /snapshots}. */
    public List<ObjectNode> snapshots() {
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
        pool.stopIdle(function);
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

    /** Files a restore of {@code function} reads, for page-cache control by benchmarks and the demo. */
    public List<Path> snapshotFiles(String function) {
        return restorer.snapshotFiles(deployed(function));
    }

    @Override
    public void close() {
        if (closed) return; // the shutdown hook and try-with-resources may both call this
        closed = true;
        reaper.interrupt();
        pool.close();
        tracing.close();
    }
}
