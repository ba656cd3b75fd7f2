package dev.thaw.sim;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A discrete-event model of a thaw cluster: N nodes with a memory budget and an instance limit
 * each, instances that are busy for an invocation's duration and then idle until a keep-alive
 * runs out, and the gateway's three routing policies applied to every arrival. It answers what
 * the three-node cluster on this machine cannot: cold starts, latency and memory at 100 to
 * 10,000 nodes.
 *
 * <p>The policies follow {@code gateway.RoutingPolicy}: {@code locality} takes a node with an
 * idle instance of the function, else one that holds its snapshot and has room, else any node
 * with room (which first fetches the snapshot); {@code random} a node chosen uniformly;
 * {@code least-loaded} the node with the fewest busy instances. A node without room for a new
 * instance evicts its longest-idle one, as {@code InstanceManager} does; a call no node can take
 * is rejected (the gateway's 429). Latency = the trace's duration + the warm overhead, or the
 * restore overhead on a cold start, + the snapshot fetch when the node lacks the snapshot
 * ({@link Costs}, from a {@code thaw bench} results file). Time is simulated: the result depends
 * only on the inputs and the seed.
 */
public final class Simulator {
    /** Host-side costs in ms: on a warm call, on a restore, and per MiB of snapshot fetched from a peer. */
    public record Costs(double warmMs, double restoreMs, double fetchMsPerMib) {}

    record Config(int nodes, int nodeMemoryMib, int nodeMaxInstances, String policy, double keepAliveMs, Costs costs, long seed) {}

    public record Result(String policy, double keepAliveS, long invocations, long coldStarts, long fetches, long rejected,
                  double p50Ms, double p99Ms, double meanMemoryGib, double peakMemoryGib) {
        double coldShare() {
            return invocations == 0 ? 0 : (double) coldStarts / invocations;
        }
    }

    private static final class Instance {
        final int node, function, memory;
        double lastUsed;
        boolean busy, gone;

        Instance(int node, int function, int memory) {
            this.node = node;
            this.function = function;
            this.memory = memory;
        }
    }

    private record Event(double at, Instance instance, boolean expiry) {}

    private final Config cfg;
    private final SimTrace.Arrivals trace;
    private final SplittableRandom random;
    private final int[] memoryUsed, instances, busy;
    private final BitSet[] snapshots; // per function: the nodes that hold its snapshot
    private final Map<Long, ArrayDeque<Instance>> idle = new HashMap<>(); // (node, function) → idle instances, most recent last
    private final ArrayDeque<Instance>[] idleByNode; // for eviction: oldest first (lazy: skips busy or gone ones)
    private final Map<Integer, TreeSet<Integer>> warmNodes = new HashMap<>(); // function → nodes with an idle instance
    private final TreeSet<Long> byBusy = new TreeSet<>(); // (busy << 32 | node): least-loaded
    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> Double.compare(a.at, b.at));
    private long memoryTotal;

    @SuppressWarnings("unchecked")
    Simulator(Config cfg, SimTrace.Arrivals trace) {
        this.cfg = cfg;
        this.trace = trace;
        this.random = new SplittableRandom(cfg.seed());
        memoryUsed = new int[cfg.nodes()];
        instances = new int[cfg.nodes()];
        busy = new int[cfg.nodes()];
        snapshots = new BitSet[trace.functions().size()];
        for (int f = 0; f < snapshots.length; f++) snapshots[f] = new BitSet(cfg.nodes());
        idleByNode = new ArrayDeque[cfg.nodes()];
        for (int n = 0; n < cfg.nodes(); n++) { idleByNode[n] = new ArrayDeque<>(); byBusy.add(key(0, n)); }
    }

    private static long key(int hi, int lo) {
        return ((long) hi << 32) | lo;
    }

    Result run() {
        double[] latency = new double[trace.size()];
        int done = 0;
        long cold = 0, fetches = 0, rejected = 0;
        double memoryIntegral = 0, last = 0, peak = 0;
        for (int i = 0; i < trace.size(); i++) {
            double now = trace.atMs()[i];
            while (!events.isEmpty() && events.peek().at <= now) {
                Event e = events.poll();
                memoryIntegral += memoryTotal * (e.at - last);
                last = e.at;
                handle(e);
            }
            memoryIntegral += memoryTotal * (now - last);
            last = now;
            int f = trace.function()[i];
            SimTrace.Function fn = trace.functions().get(f);
            Instance inst = takeIdle(f, now);
            double extra = cfg.costs().warmMs();
            if (inst == null) {
                int node = place(f, fn.memoryMib());
                if (node < 0) { rejected++; continue; }
                extra = cfg.costs().restoreMs();
                if (!snapshots[f].get(node)) {
                    snapshots[f].set(node);
                    extra += cfg.costs().fetchMsPerMib() * fn.memoryMib();
                    fetches++;
                }
                cold++;
                inst = new Instance(node, f, fn.memoryMib());
                memoryUsed[node] += inst.memory;
                instances[node]++;
                memoryTotal += inst.memory;
                peak = Math.max(peak, memoryTotal);
            }
            setBusy(inst.node, +1);
            inst.busy = true;
            latency[done++] = fn.durationMs() + extra;
            events.add(new Event(now + fn.durationMs() + extra, inst, false));
        }
        double end = trace.size() == 0 ? 0 : trace.atMs()[trace.size() - 1];
        double[] sorted = Arrays.copyOf(latency, done);
        Arrays.sort(sorted);
        return new Result(cfg.policy(), cfg.keepAliveMs() / 1000, done + rejected, cold, fetches, rejected,
                pct(sorted, 50), pct(sorted, 99), end > 0 ? memoryIntegral / end / 1024 : 0, peak / 1024);
    }

    private static double pct(double[] sorted, double p) {
        if (sorted.length == 0) return 0;
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1 < 0 ? 0 : (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }

    private void handle(Event e) {
        Instance inst = e.instance;
        if (inst.gone) return;
        if (!e.expiry) {
            inst.busy = false;
            inst.lastUsed = e.at;
            setBusy(inst.node, -1);
            idle.computeIfAbsent(key(inst.node, inst.function), k -> new ArrayDeque<>()).addLast(inst);
            idleByNode[inst.node].addLast(inst);
            warmNodes.computeIfAbsent(inst.function, k -> new TreeSet<>()).add(inst.node);
            events.add(new Event(e.at + cfg.keepAliveMs(), inst, true));
        } else if (!inst.busy && e.at - inst.lastUsed >= cfg.keepAliveMs()) {
            stop(inst);
        }
    }

    private void stop(Instance inst) {
        inst.gone = true;
        ArrayDeque<Instance> q = idle.get(key(inst.node, inst.function));
        if (q != null) {
            q.remove(inst);
            if (q.isEmpty()) {
                idle.remove(key(inst.node, inst.function));
                TreeSet<Integer> w = warmNodes.get(inst.function);
                if (w != null) w.remove(inst.node);
            }
        }
        memoryUsed[inst.node] -= inst.memory;
        instances[inst.node]--;
        memoryTotal -= inst.memory;
    }

    private void setBusy(int node, int delta) {
        byBusy.remove(key(busy[node], node));
        busy[node] += delta;
        byBusy.add(key(busy[node], node));
    }

    /** An idle instance the policy would send this call to, taken; null on a cold start. */
    private Instance takeIdle(int f, double now) {
        int node;
        if (cfg.policy().equals("locality")) {
            TreeSet<Integer> w = warmNodes.get(f);
            if (w == null || w.isEmpty()) return null;
            node = w.first();
        } else {
            node = cfg.policy().equals("random") ? random.nextInt(cfg.nodes()) : (int) (byBusy.first() & 0xffffffffL);
            pending = node;
        }
        ArrayDeque<Instance> q = idle.get(key(node, f));
        if (q == null || q.isEmpty()) return null;
        Instance inst = q.pollLast();
        if (q.isEmpty()) {
            idle.remove(key(node, f));
            warmNodes.get(f).remove(node);
        }
        idleByNode[node].remove(inst);
        return inst;
    }

    /** For random and least-loaded: the node already chosen for this call (it had no idle instance). */
    private int pending = -1;

    /** The node a new instance goes to, after making room there; -1 if none can take it. */
    private int place(int f, int memory) {
        if (!cfg.policy().equals("locality")) {
            int node = pending;
            pending = -1;
            return makeRoom(node, memory) ? node : -1;
        }
        BitSet has = snapshots[f];
        for (int n = has.nextSetBit(0), tries = 0; n >= 0 && tries < 64; n = has.nextSetBit(n + 1), tries++) {
            if (fits(n, memory)) return n;
        }
        for (int tries = 0; tries < 64; tries++) {
            int n = random.nextInt(cfg.nodes());
            if (fits(n, memory)) return n;
        }
        for (int tries = 0; tries < 16; tries++) {
            int n = random.nextInt(cfg.nodes());
            if (makeRoom(n, memory)) return n;
        }
        return -1;
    }

    private boolean fits(int node, int memory) {
        return instances[node] < cfg.nodeMaxInstances() && memoryUsed[node] + memory <= cfg.nodeMemoryMib();
    }

    /** Evicts the node's longest-idle instances until {@code memory} fits; false if its busy ones leave no room. */
    private boolean makeRoom(int node, int memory) {
        while (!fits(node, memory)) {
            Instance oldest = idleByNode[node].pollFirst();
            if (oldest == null) return false;
            if (!oldest.gone && !oldest.busy) stop(oldest);
        }
        return true;
    }
}
