package dev.thaw.cluster;

import dev.thaw.common.Json;
import dev.thaw.platform.FunctionBundle;
import dev.thaw.platform.FunctionInfo;
import dev.thaw.platform.Instance;
import dev.thaw.platform.Limits;
import dev.thaw.platform.Platform;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A daemon's membership in a cluster: registers the node in etcd under a lease, keeps what it
 * publishes current, and keeps the node's functions in step with the cluster's registry.
 *
 * <p>One loop, once a second ({@link #tick}), does everything, so there is no state shared
 * between threads beyond what etcd holds: renew the lease (every third of its TTL); if etcd
 * says it expired, or etcd was unreachable long enough, grant a new one and register again; put
 * the node's record when it changed; then reconcile functions. A node that cannot reach etcd
 * keeps serving what it has (the loop logs once and retries); its key goes when the lease
 * expires, so the gateway stops routing to it, and it comes back on its first successful tick.
 *
 * <p>Reconciling compares three things per function: the local deployment's snapshot id, the
 * registry's, and the id this node last saw agree ({@code synced}). A local snapshot the registry
 * does not know is a deploy made through this node: announce it (record and code bundle). A
 * registry snapshot this node lacks is fetched from a peer that has it. A function that was in
 * step and is now gone on one side was undeployed there: remove it on the other. The watch on
 * the registry only makes the next tick come sooner.
 */
public final class NodeAgent implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NodeAgent.class.getName());
    private static final Pattern QUEUE = Pattern.compile("^thaw_queue_length\\{function=\"([^\"]+)\"[^}]*} ([0-9.eE+]+)$", Pattern.MULTILINE);

    /** Who this node is: its name, where peers and gateways reach it, and its limits. */
    public record Identity(String name, String url, Limits limits) {
        public Identity {
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
                throw new IllegalArgumentException("--node-name must be 1-63 letters, digits, '.', '_' or '-', got \"" + name + "\"");
            }
            if (!url.matches("https?://[^/\\s]+")) {
                throw new IllegalArgumentException("--advertise must be a base URL like http://10.0.0.5:8080, got \"" + url + "\"");
            }
        }
    }

    private final Etcd etcd;
    private final dev.thaw.common.AuthToken token;
    private final Platform platform;
    private final Identity id;
    private final Duration ttl;
    private final SnapshotFetcher.Order order;
    /** Per function, the last fetch's wall-clock stamps (epoch ms), exposed as gauges for measurements. */
    private final Map<String, long[]> fetchStamps = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, String> synced = new ConcurrentHashMap<>();
    private final Set<String> fetching = ConcurrentHashMap.newKeySet();
    /** Functions installed early, their memory still arriving: neither announced, synced nor offered to peers. */
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final Set<Thread> fetchers = ConcurrentHashMap.newKeySet();
    private final Object wake = new Object();
    private long lease;
    private long renewedAt;
    private String published;
    private boolean etcdLost;
    private volatile boolean closed;
    private Thread loop;
    private AutoCloseable watch;

    public NodeAgent(Etcd etcd, Platform platform, Identity id, Duration ttl) {
        this(etcd, platform, id, ttl, null);
    }

    /** @param token the API token every node of the cluster shares (peers send it to fetch snapshots), or null */
    public NodeAgent(Etcd etcd, Platform platform, Identity id, Duration ttl, dev.thaw.common.AuthToken token) {
        this(etcd, platform, id, ttl, token, SnapshotFetcher.Order.WS_FIRST);
    }

    /** @param order in what order peer snapshots arrive ({@code thaw serve --fetch-order}) */
    public NodeAgent(Etcd etcd, Platform platform, Identity id, Duration ttl, dev.thaw.common.AuthToken token,
                     SnapshotFetcher.Order order) {
        this.order = order;
        this.token = token;
        this.etcd = etcd;
        this.platform = platform;
        this.id = id;
        this.ttl = ttl;
        registerGauges();
    }

    /**
     * The last fetch of each function as wall-clock gauges (epoch milliseconds: when it started,
     * when its loading set was complete, when it was installed), so a measurement can put a
     * client's first answer on the same clock; counters for fetches and checksum refetches.
     */
    private void registerGauges() {
        String[] names = {"thaw_snapshot_fetch_started_ms", "thaw_snapshot_fetch_loading_set_ms", "thaw_snapshot_fetch_installed_ms",
                "thaw_snapshot_fetch_early_ms"};
        String[] help = {"When the last peer fetch of the function's snapshot started (Unix epoch ms)",
                "When that fetch's loading set was complete (Unix epoch ms; absent when fetched whole-file)",
                "When that fetch was complete, verified and installed (Unix epoch ms)",
                "When that fetch installed the function early, restorable before its memory arrived (Unix epoch ms; absent if not)"};
        for (int i = 0; i < names.length; i++) {
            int at = i;
            platform.metrics().gauge(names[i], help[i], () -> {
                Map<String, Long> out = new HashMap<>();
                fetchStamps.forEach((f, s) -> {
                    if (s[at] > 0) out.put(dev.thaw.platform.Metrics.labels("function", f), s[at]);
                });
                return out;
            });
        }
    }

    public NodeAgent start() {
        loop = Thread.ofPlatform().daemon().name("node-agent").start(this::run);
        return this;
    }

    private void run() {
        while (!closed) {
            tick(System.nanoTime());
            synchronized (wake) {
                try {
                    wake.wait(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void poke() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** One round: lease, record, registry. Never throws: an etcd failure is logged and retried next tick. */
    synchronized void tick(long now) {
        try {
            if (watch == null) watch = etcd.watch(Etcd.FUNCTIONS, e -> poke(), e -> watch = null);
            keepLease(now);
            publish();
            reconcile();
            if (etcdLost) LOG.log(System.Logger.Level.INFO, "etcd " + etcd.endpoints() + " reachable again; node " + id.name() + " registered");
            etcdLost = false;
        } catch (Etcd.EtcdException e) {
            if (!etcdLost) LOG.log(System.Logger.Level.WARNING, "node " + id.name() + " lost etcd, serving what it has: " + e.getMessage());
            etcdLost = true;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "node agent: " + e, e);
        }
    }

    private void keepLease(long now) {
        if (lease != 0 && now - renewedAt >= ttl.toNanos() / 3) {
            if (etcd.renew(lease)) {
                renewedAt = now;
            } else {
                LOG.log(System.Logger.Level.WARNING, "the lease of node " + id.name() + " expired; registering again");
                lease = 0;
            }
        }
        if (lease == 0) {
            lease = etcd.grant(ttl.toSeconds());
            renewedAt = now;
            published = null;
        }
    }

    private void publish() {
        String json = Json.write(info());
        if (json.equals(published)) return;
        etcd.put(Etcd.NODES + id.name(), json, lease);
        published = json;
    }

    /** The node's record, from the platform as it is now. */
    NodeInfo info() {
        Map<String, int[]> counts = new HashMap<>();
        for (Instance.Info i : platform.instances()) {
            int[] c = counts.computeIfAbsent(i.function(), k -> new int[2]);
            if ("idle".equals(i.state())) c[0]++; else c[1]++;
        }
        Map<String, Integer> queued = queueLengths(platform.metrics().render());
        Map<String, NodeInfo.Load> functions = new HashMap<>();
        long memory = 0;
        int instances = 0;
        for (FunctionInfo f : platform.functions()) {
            int[] c = counts.getOrDefault(f.name(), new int[2]);
            // A pending snapshot is not offered: peers must not fetch a half-arrived file from here.
            functions.put(f.name(), new NodeInfo.Load(c[0], c[1], queued.getOrDefault(f.name(), 0),
                    f.snapshot() == null || pending.contains(f.name()) ? null : f.snapshot().snapshotId(), f.memoryMib()));
            memory += (long) (c[0] + c[1]) * f.memoryMib();
            instances += c[0] + c[1];
        }
        return new NodeInfo(id.name(), id.url(), Runtime.getRuntime().availableProcessors(), id.limits().memoryBudgetMib(),
                id.limits().maxInstances(), platform.accel().name().toLowerCase(), platform.image().key(), instances, memory, functions);
    }

    static Map<String, Integer> queueLengths(String metrics) {
        Map<String, Integer> out = new HashMap<>();
        Matcher m = QUEUE.matcher(metrics);
        while (m.find()) out.put(m.group(1), (int) Double.parseDouble(m.group(2)));
        return out;
    }

    private void reconcile() {
        Map<String, FunctionRecord> registry = new HashMap<>();
        for (String v : etcd.list(Etcd.FUNCTIONS).values()) {
            FunctionRecord r = Records.read(v, FunctionRecord.class);
            registry.put(r.name(), r);
        }
        Map<String, FunctionInfo> local = new HashMap<>();
        for (FunctionInfo f : platform.functions()) local.put(f.name(), f);
        for (FunctionInfo f : local.values()) {
            if (pending.contains(f.name())) continue; // its fetch is still under way: in step once it completes
            String snap = f.snapshot().snapshotId();
            FunctionRecord r = registry.get(f.name());
            String was = synced.get(f.name());
            if (r != null && r.snapshotId().equals(snap)) {
                synced.put(f.name(), snap);
            } else if (r == null && was != null) {
                LOG.log(System.Logger.Level.INFO, f.name() + " was undeployed from the cluster; removing it here");
                platform.undeploy(f.name());
                synced.remove(f.name());
            } else if (r == null || !snap.equals(was)) {
                announce(f);
            } else {
                fetchLater(r); // the registry moved on: a redeploy elsewhere
            }
        }
        for (FunctionRecord r : registry.values()) {
            if (local.containsKey(r.name())) continue;
            if (r.snapshotId().equals(synced.get(r.name()))) {
                LOG.log(System.Logger.Level.INFO, r.name() + " was undeployed through node " + id.name() + "; removing it from the cluster");
                etcd.delete(Etcd.FUNCTIONS + r.name());
                synced.remove(r.name());
            } else {
                fetchLater(r);
            }
        }
    }

    private void announce(FunctionInfo f) {
        Path code = platform.snapshotDir(f.name()).resolveSibling("code");
        FunctionBundle bundle = FunctionBundle.fromDirectory(code);
        if (etcd.get(Etcd.BUNDLES + bundle.hash()) == null) etcd.put(Etcd.BUNDLES + bundle.hash(), Bundles.encode(bundle));
        FunctionRecord r = new FunctionRecord(f.name(), bundle.hash(), f.snapshot().snapshotId(), f.memoryMib(), id.name(), id.url());
        etcd.put(Etcd.FUNCTIONS + f.name(), Json.write(r));
        synced.put(f.name(), r.snapshotId());
        LOG.log(System.Logger.Level.INFO, "announced " + f.name() + " snapshot " + r.snapshotId() + " to the cluster");
    }

    /** Fetches a registry snapshot from a peer on its own thread; the next tick sees it installed. */
    private void fetchLater(FunctionRecord r) {
        if (!fetching.add(r.name())) return;
        Thread[] self = new Thread[1];
        self[0] = Thread.ofVirtual().name("fetch-" + r.name()).unstarted(() -> {
            try {
                fetch(r);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "cannot fetch " + r.name() + " from a peer: " + e.getMessage());
            } finally {
                fetching.remove(r.name());
                fetchers.remove(self[0]);
                poke();
            }
        });
        fetchers.add(self[0]);
        self[0].start();
    }

    long lease() {
        return lease;
    }

    /** Waits for the fetches under way (tests, and a clean shutdown). */
    void awaitFetches() throws InterruptedException {
        for (Thread t : List.copyOf(fetchers)) t.join();
    }

    private void fetch(FunctionRecord r) throws Exception {
        List<String> peers = peersWith(r);
        if (peers.isEmpty()) throw new IllegalStateException("no live node has snapshot " + r.snapshotId() + " of " + r.name());
        String bundle = etcd.get(Etcd.BUNDLES + r.codeHash());
        if (bundle == null) throw new IllegalStateException("code bundle " + r.codeHash() + " of " + r.name() + " is not in etcd");
        Exception last = null;
        for (String peer : peers) {
            Path staging = platform.newStaging(r.name());
            long[] stamps = {System.currentTimeMillis(), 0, 0, 0};
            fetchStamps.put(r.name(), stamps);
            LOG.log(System.Logger.Level.INFO, "fetching " + r.name() + " snapshot " + r.snapshotId() + " from " + peer + " (" + order.id() + ")");
            dev.thaw.platform.PendingInstall[] early = {null};
            try {
                Bundles.decode(bundle, r.codeHash()).writeTo(staging.resolve("code"));
                SnapshotFetcher fetcher = new SnapshotFetcher(SnapshotFetcher.http(http, peer, token, id.name()), order);
                SnapshotFetcher.Result res = order != SnapshotFetcher.Order.WS_FIRST
                        ? fetcher.fetch(r.name(), r.snapshotId(), staging.resolve("snapshot"))
                        : fetcher.fetchEarly(r.name(), r.snapshotId(), staging.resolve("snapshot"), (m, dir, progress) -> {
                            // Everything but the memory files is here and checked: restores may start now.
                            early[0] = platform.installPending(r.name(), staging, m, progress);
                            pending.add(r.name());
                            stamps[3] = System.currentTimeMillis();
                            LOG.log(System.Logger.Level.INFO, "installed " + r.name() + " early, " + (stamps[3] - stamps[0])
                                    + " ms into its fetch; its memory arrives behind its restores");
                            return early[0].snapshotDir();
                        });
                if (early[0] == null) platform.install(r.name(), staging);
                else if (!early[0].complete()) LOG.log(System.Logger.Level.INFO, r.name() + " went while its snapshot arrived; fetched for nothing");
                pending.remove(r.name());
                stamps[2] = System.currentTimeMillis();
                if (res.loadingSetMillis() >= 0) stamps[1] = stamps[0] + res.loadingSetMillis();
                synced.put(r.name(), r.snapshotId());
                String labels = dev.thaw.platform.Metrics.labels("function", r.name());
                platform.metrics().increment("thaw_snapshot_fetches_total", "Snapshots fetched from a peer and installed", labels);
                for (int i = 0; i < res.refetches(); i++) {
                    platform.metrics().increment("thaw_snapshot_fetch_retries_total",
                            "Snapshot files or chunks fetched again because they failed the manifest's checksum", labels);
                }
                LOG.log(System.Logger.Level.INFO, "fetched " + r.name() + " from " + peer + ": " + res.bytes() + " bytes in "
                        + res.millis() + " ms (loading set after " + res.loadingSetMillis() + " ms), " + res.refetches() + " refetches");
                return;
            } catch (Exception e) {
                last = e;
                if (early[0] != null) {
                    // Its VMs already failed with the fetch (their faults wait on it); stop what is left and delete it.
                    LOG.log(System.Logger.Level.WARNING, "the fetch of " + r.name() + " failed after its early install; removing it: " + e.getMessage());
                    early[0].abandon();
                    pending.remove(r.name());
                }
                platform.metrics().increment("thaw_snapshot_fetch_failures_total", "Peer fetches that failed (the next peer is tried)",
                        dev.thaw.platform.Metrics.labels("function", r.name()));
                dev.thaw.common.FileTrees.delete(staging);
            }
        }
        throw last;
    }

    /** Base URLs of live nodes holding the record's snapshot, its origin first. */
    private List<String> peersWith(FunctionRecord r) {
        List<String> out = new java.util.ArrayList<>();
        for (String v : etcd.list(Etcd.NODES).values()) {
            NodeInfo n = Records.read(v, NodeInfo.class);
            NodeInfo.Load l = n.load(r.name());
            if (n.name().equals(id.name()) || l == null || !r.snapshotId().equals(l.snapshotId())) continue;
            if (n.name().equals(r.origin())) out.addFirst(n.url()); else out.add(n.url());
        }
        return out;
    }

    @Override
    public void close() {
        closed = true;
        poke();
        try {
            if (watch != null) watch.close();
            if (lease != 0) etcd.revoke(lease); // leave at once rather than after the TTL
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "leaving the cluster: " + e);
        }
    }
}
