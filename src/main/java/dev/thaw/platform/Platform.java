package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.trace.Tracing;
import dev.thaw.guest.GuestImage;
import dev.thaw.memory.PageCache;
import dev.thaw.model.Mode;
import dev.thaw.vm.Accel;
import dev.thaw.vm.GuestLauncher;
import dev.thaw.vm.HugePageAdvice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The platform facade: the one object the API, the CLI and the bench hold. It wires the parts
 * together and delegates; each part owns one job:
 *
 * <ul>
 *   <li>{@link FunctionRegistry}: deployed functions (deploy, load, verify, undeploy);</li>
 *   <li>{@link Invoker}: the invocation path (admission, instance, guest call, answer);</li>
 *   <li>{@link InstanceManager}: running instances and the budget every VM draws from;</li>
 *   <li>{@link Restorer} with its {@link RestoreStrategy}s: bringing instances up;</li>
 *   <li>{@link Dispatch}: where a call without an idle instance goes, and the state the
 *       autoscaler and keep-alive policy ({@link Scaling}) read;</li>
 *   <li>{@link Keeper}: prewarming, scaling, keep-alive and {@code min_warm}.</li>
 * </ul>
 *
 * VMs come from a {@link GuestLauncher}: QEMU in production, a scripted fake in tests.
 */
public final class Platform implements AutoCloseable {
    /**
     * @param limits        admission limits; {@code null} for the host-derived defaults
     * @param resultTtl     how long results of asynchronous invocations are kept
     * @param maxTraces     recent traces kept in memory
     * @param otlpEndpoint  where spans are also exported (OTLP/HTTP), or null
     * @param maxCallDepth  deepest chain of functions calling functions
     * @param hugePageAdvice the VMM paging choice in effect (reported by {@code /healthz})
     */
    public record Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout,
                         int maxIdlePerFunction, Duration idleTimeout, Limits limits, Duration resultTtl,
                         int maxTraces, String otlpEndpoint, int maxCallDepth, HugePageAdvice hugePageAdvice,
                         RecordMethod recordMethod) {
        public Config {
            if (hugePageAdvice == null) hugePageAdvice = HugePageAdvice.DROP;
            if (recordMethod == null) recordMethod = RecordMethod.UFFD;
            if (limits == null) limits = Limits.forHost();
            if (resultTtl == null) resultTtl = Duration.ofMinutes(10);
            if (maxTraces <= 0) maxTraces = 1000;
            if (maxCallDepth <= 0) maxCallDepth = 16;
        }

        public Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout, int maxIdlePerFunction,
                      Duration idleTimeout, Limits limits, Duration resultTtl) {
            this(dataDir, runDir, cacheDir, bootTimeout, maxIdlePerFunction, idleTimeout, limits, resultTtl, 0, null, 0, null);
        }

        public Config(Path dataDir, Path runDir, Path cacheDir, Duration bootTimeout, int maxIdlePerFunction,
                      Duration idleTimeout, Limits limits, Duration resultTtl, int maxTraces, String otlpEndpoint,
                      int maxCallDepth, HugePageAdvice hugePageAdvice) {
            this(dataDir, runDir, cacheDir, bootTimeout, maxIdlePerFunction, idleTimeout, limits, resultTtl, maxTraces,
                    otlpEndpoint, maxCallDepth, hugePageAdvice, null);
        }

        public static Config defaults(Path dataDir, Path runDir, Path cacheDir) {
            return new Config(dataDir, runDir, cacheDir, Duration.ofSeconds(60), 4, Duration.ofSeconds(60), null, null);
        }

        Path functionsDir() {
            return dataDir.resolve("functions");
        }
    }

    private final Config config;
    private final GuestImage image;
    private final GuestLauncher launcher;
    private final Metrics metrics = new Metrics();
    private final Tracing tracing;
    final InstanceManager instances; // package-private for tests: the budget reserved now, pooled VMMs included
    final Restorer restorer; // package-private for tests: awaitBackground (prefetches, pool refills)
    private final FunctionRegistry registry;
    private final Invoker invoker;
    private final Keeper keeper;
    private final Dispatch dispatch;
    private final VmmPool pool;
    private volatile Thread poolKeeper;
    private final Primer primer;
    private volatile boolean closed;

    public Platform(Config config, GuestImage image, GuestLauncher launcher) {
        this(config, image, launcher, null);
    }

    /** @param scaling dispatch, autoscaler and keep-alive policy; null for {@link Scaling#defaults} */
    public Platform(Config config, GuestImage image, GuestLauncher launcher, Scaling scaling) {
        this(config, image, launcher, scaling, Ticker.SYSTEM, true);
    }

    Platform(Config config, GuestImage image, GuestLauncher launcher, Ticker ticker, boolean keeperLoop) {
        this(config, image, launcher, null, ticker, keeperLoop);
    }

    /** @param keeperLoop false in tests that drive {@link Keeper#tick} themselves */
    Platform(Config config, GuestImage image, GuestLauncher launcher, Scaling scaling, Ticker ticker, boolean keeperLoop) {
        this.config = config;
        this.image = image;
        this.launcher = launcher;
        try {
            Files.createDirectories(config.functionsDir());
            Files.createDirectories(config.runDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + config.dataDir() + " or " + config.runDir(), e);
        }
        this.tracing = new Tracing(config.maxTraces(), config.otlpEndpoint());
        this.instances = new InstanceManager(config.limits(), metrics, ticker);
        Scaling scales = scaling != null ? scaling : Scaling.defaults(config.idleTimeout());
        this.dispatch = new Dispatch(scales, instances, metrics,
                ticker, config.limits().queueTimeout(), ticker == Ticker.SYSTEM ? new HostCpu() : () -> Double.MAX_VALUE);
        this.primer = new Primer(scales.prime(), instances, metrics, ticker);
        AsyncInvocations async = new AsyncInvocations(config.resultTtl(), ticker);
        // The invoker serves guests' calls to functions, and guests are started before it exists: late-bound.
        Invoker[] calls = new Invoker[1];
        GuestCalls guestCalls = (caller, msg) -> calls[0].serveGuestCall(caller, msg);
        this.restorer = new Restorer(config, launcher, image, instances, metrics, guestCalls);
        Deployer deployer = new Deployer(config, launcher, image, instances, guestCalls);
        this.registry = new FunctionRegistry(config.functionsDir(), deployer, instances);
        this.invoker = new Invoker(config, registry, new Admission(config.limits(), metrics), instances, restorer, async,
                tracing, metrics, ticker, dispatch);
        calls[0] = invoker;
        this.keeper = new Keeper(registry, instances, restorer, async, dispatch, ticker, primer);
        this.pool = new VmmPool(launcher, instances, UffdStrategy.handover(new RestoreStrategy.Host(config.runDir(), config.cacheDir())),
                r -> Thread.ofVirtual().name("vmm-pool-refill").start(r), 0);
        restorer.pool(pool);
        instances.onNeedRoom(pool::giveUpOne);
        registry.load();
        Thread.ofVirtual().name("snapshot-verifier").start(registry::verifyLoaded);
        if (keeperLoop) keeper.start();
    }

    /**
     * Keeps {@code n} pre-started VMMs per shape of the deployed functions ({@code --vmm-pool}; 0,
     * the default of an embedded platform, disables them); a background thread checks the pool
     * every second (refills, dead VMMs, shapes no longer deployed).
     */
    public synchronized void vmmPool(int n) {
        pool.size(n);
        if (n > 0 && poolKeeper == null && !closed) {
            poolKeeper = Thread.ofVirtual().name("vmm-pool").start(() -> {
                while (!closed) {
                    try {
                        maintainPool();
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        System.getLogger(Platform.class.getName()).log(System.Logger.Level.WARNING, "VMM pool upkeep failed: " + e);
                    }
                }
            });
        }
    }

    /** One round of the pool's upkeep: pre-starts VMMs for the deployed functions' shapes. */
    void maintainPool() {
        if (pool.size() > 0) pool.maintain(restorer.deployedShapes(registry.all()));
    }

    VmmPool pool() {
        return pool;
    }

    public Health health() {
        return new Health("ok", launcher.accel().name().toLowerCase(java.util.Locale.ROOT), image.key(),
                config.hugePageAdvice().id(), snapshotsVerified(), launcher.vmmJail(), dispatch.scaling().keepAlive().name());
    }

    /**
     * What each function's instances cost and how its calls were dispatched, for {@code GET /stats}
     * (what {@code thaw load} reads before and after a run): idle instance-seconds, idle
     * MiB-seconds, restores and boots since the daemon started, the dispatch counts, recent
     * service and restore times, the autoscaler's count, the keep-alive windows, and the primings
     * of instances restored ahead of demand (count, failures, recent time).
     */
    public ObjectNode stats() {
        ObjectNode root = dev.thaw.common.Json.object();
        root.put("keepalive_policy", dispatch.scaling().keepAlive().name());
        root.set("vmm_pool", pool.stats());
        root.put("prime", primer.enabled() ? "auto" : "off");
        ObjectNode fns = root.putObject("functions");
        for (Deployed d : registry.all()) {
            InstanceManager.Usage u = instances.usage(d.name());
            ObjectNode o = fns.putObject(d.name());
            o.put("memory_mib", d.spec().memoryMib()).put("running", u.running()).put("idle", u.idle())
                    .put("idle_instance_s", u.idleInstanceSeconds()).put("idle_mib_s", u.idleMibSeconds())
                    .put("restores", u.restores()).put("boots", u.boots());
            o.setAll((ObjectNode) dev.thaw.common.Json.MAPPER.valueToTree(dispatch.stats(d.name())));
            o.put("prime", primer.wanted(d));
            o.setAll((ObjectNode) dev.thaw.common.Json.MAPPER.valueToTree(primer.stats(d.name())));
        }
        return root;
    }

    public Metrics metrics() {
        return metrics;
    }

    /**
     * True once the start-up check of the snapshots found on disk is over. Until then it reads
     * whole memory files, so a benchmark that wants a quiet disk and a cold page cache waits.
     */
    public boolean snapshotsVerified() {
        return registry.verified();
    }

    /** Whether QEMU's huge-page advice over guest RAM is kept or dropped (see {@link HugePageAdvice}). */
    public HugePageAdvice hugePageAdvice() {
        return config.hugePageAdvice();
    }

    public Accel accel() {
        return launcher.accel();
    }

    public GuestImage image() {
        return image;
    }

    public Tracing tracing() {
        return tracing;
    }

    // ---------------------------------------------------------------- functions

    public List<FunctionInfo> functions() {
        return registry.all().stream().map(registry::info).toList();
    }

    /** Deployments found on disk that cannot be used (a broken manifest, a missing file), with why. */
    public java.util.Map<String, String> brokenFunctions() {
        return registry.broken();
    }

    public FunctionInfo function(String name) {
        return registry.info(registry.get(name));
    }

    public FunctionInfo deploy(FunctionBundle bundle) {
        return registry.deploy(bundle);
    }

    /** A new directory to assemble a fetched deployment of {@code name} in, for {@link #install}. */
    public Path newStaging(String name) {
        return registry.newStaging(name);
    }

    /** Installs a deployment assembled in {@code staging} (from {@link #newStaging}) as a deploy would: used by cluster nodes that fetched a snapshot. */
    public FunctionInfo install(String name, Path staging) {
        return registry.install(name, staging);
    }

    /** Installs a fetch before its memory files have arrived; restores wait on {@code arriving} for their pages (docs/cluster.md). */
    public PendingInstall installPending(String name, Path staging, dev.thaw.snapshot.Manifest manifest, dev.thaw.memory.PageAvailability arriving) {
        return new PendingInstall(registry, name, manifest.snapshotId(), registry.installPending(name, staging, manifest, arriving));
    }

    /** The snapshot directory of a deployed function (NOT_FOUND if none): what a cluster node serves to its peers. */
    public Path snapshotDir(String name) {
        return registry.get(name).snapshot().dir();
    }

    /**
     * One file of a function's snapshot, for a peer that fetches it: {@code manifest.json} or a
     * file the manifest names (NOT_FOUND otherwise), so the name is never a path of the caller's choosing.
     */
    public Path snapshotFile(String name, String file) {
        var snapshot = registry.get(name).snapshot();
        if (snapshot.pending()) throw new ThawException(ThawException.Kind.CONFLICT, "snapshot_pending", name + "'s snapshot is still arriving here");
        if (!file.equals("manifest.json") && snapshot.manifest().file(file) == null) {
            throw ThawException.notFound("a snapshot has no file \"" + file + "\"");
        }
        return snapshot.dir().resolve(file);
    }

    public void undeploy(String name) {
        registry.undeploy(name);
        dispatch.forget(name);
        primer.forget(name);
    }

    /** The snapshots of all deployed functions, for {@code GET /snapshots}. */
    public List<ObjectNode> snapshots() {
        return registry.snapshots();
    }

    // ---------------------------------------------------------------- invocations

    public InvocationResult invoke(String function, JsonNode event, Mode mode) {
        return invoke(function, event, mode, Call.external(null));
    }

    public InvocationResult invoke(String function, JsonNode event, Mode mode, Call call) {
        return invoker.invoke(function, event, mode, call);
    }

    public AsyncInvocations.Status invokeAsync(String function, JsonNode event, Mode mode, Call call) {
        return invoker.invokeAsync(function, event, mode, call);
    }

    public AsyncInvocations.Status invocation(String id) {
        return invoker.invocation(id);
    }

    /** Counts a failed invocation by its error code (also for failures found before the platform saw it, e.g. a bad mode). */
    public void countError(String function, ThawException e) {
        invoker.countError(function, e);
    }

    // ---------------------------------------------------------------- instances

    public List<String> prewarm(String function, int count) {
        return keeper.prewarm(function, count);
    }

    public List<Instance.Info> instances() {
        return instances.infos();
    }

    public void stopInstance(String id) {
        dispatch.quiet(instances.functionOf(id)); // before the stop: no keeper round may restore in between
        instances.stop(id);
    }

    /**
     * Makes the next restore of {@code function} a cold-cache one: stops its idle instances (a
     * mapped page cannot be evicted), waits for prefetches its restores left running, and drops
     * every snapshot file and the root disk image from the page cache. Returns the files dropped.
     */
    public List<Path> dropPageCache(String function) {
        dispatch.quiet(function);
        instances.stopIdle(function);
        restorer.awaitBackground(function);
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
        return restorer.snapshotFiles(registry.get(function));
    }

    // ---------------------------------------------------------------- for tests in this package

    Config config() {
        return config;
    }

    Keeper keeper() {
        return keeper;
    }

    InstanceManager instanceManager() {
        return instances;
    }

    Dispatch dispatch() {
        return dispatch;
    }

    /** The invocation path; the HTTP API calls it directly. */
    public Invoker invoker() {
        return invoker;
    }

    @Override
    public void close() {
        if (closed) return; // the shutdown hook and try-with-resources may both call this
        closed = true;
        keeper.close();
        Thread t = poolKeeper;
        if (t != null) t.interrupt();
        pool.close();
        instances.close();
        tracing.close();
    }
}
