package dev.thaw.sim;

import dev.thaw.cluster.NodeInfo;
import dev.thaw.gateway.RoutingPolicy;
import dev.thaw.load.Replay;
import dev.thaw.scale.KeepAlivePolicy;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * A discrete-event simulation of one routing policy and one keep-alive setting over N nodes:
 * simulated time in nanoseconds, one event queue, no wall clock and no threads, so a seed fixes
 * the result. It runs the platform's own policy code: {@link RoutingPolicy} ranks the nodes'
 * {@link NodeInfo} views for each call, and each node's {@link KeepAlivePolicy} sets the
 * pre-warm and keep-alive windows from the idle times that node observed.
 *
 * <p>A call goes to the first node in the policy's ranking that takes it: one with an idle
 * instance of the function (warm; the most recently used instance), else one that can start an
 * instance, evicting its longest-idle instances of any function when memory or the instance
 * limit requires (as {@code InstanceManager.reserve} does). A node whose memory is all in busy
 * instances refuses; a call every node refuses is a 429. The gateway sees every node's state as
 * it is (no etcd publication delay), and a node neither queues calls for a busy instance nor
 * limits concurrent restores — both are simplifications the platform does not share.
 *
 * <p>Keep-alive (the platform keeper's rule, applied at event times instead of once a second):
 * with windows (p, k) read when an instance goes idle, p = 0 stops each instance k after its
 * last call; p &gt; 0 stops the function's idle instances as soon as its last call ends, restores
 * one at p (costing a restore) and stops it at p + k unless a call came. Idle times are
 * observed when a call starts on a node with none in flight, as {@code Dispatch} does.
 */
public final class Simulator {
    /** The shape of every node. */
    public record NodeShape(@com.fasterxml.jackson.annotation.JsonProperty("cores") int cores,
                            @com.fasterxml.jackson.annotation.JsonProperty("memory_mib") long memoryMib,
                            @com.fasterxml.jackson.annotation.JsonProperty("max_instances") int maxInstances) {
        public NodeShape {
            if (cores < 1 || memoryMib < 1 || maxInstances < 1) throw new IllegalArgumentException("node cores, memory and max instances must be positive");
        }
    }

    /** A keep-alive setting as given on the command line, and a factory for each node's policy. */
    public record KeepAlive(String label, Supplier<KeepAlivePolicy> perNode) {}

    /** Told at the start, every {@code PROGRESS_EVERY} calls and at the end how many of {@code total} were routed. */
    public interface Progress {
        void routed(String combination, long done, long total);
    }

    static final int PROGRESS_EVERY = 20_000;
    private static final int END = 0, EXPIRE = 1, PREWARM = 2, READY = 3, STOP_ALL = 4;

    private record Event(long at, long seq, int kind, SimNode.Instance inst, SimNode node, int fn, long gen) {}

    private final Replay replay;
    private final List<BenchProfile.Function> profiles;
    private final String[] names;
    private final int[] memoryMib;
    private final SimNode[] nodes;
    private final Map<String, SimNode> byName = new HashMap<>();
    private final RoutingPolicy policy;
    private final String policyName;
    private final String keepAliveLabel;
    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long seq;
    private final List<NodeInfo> viewList;

    // what is measured
    private long cold, rejected, prewarms, evictions, served;
    private long instanceNanos;
    private double instanceMibNanos, idleMibNanos; // doubles: a long of MiB·ns overflows past ~10^19
    private long memoryNowMib, peakMemoryMib;
    private int instancesNow, peakInstances;
    private final double[] latencies;

    /**
     * @param profiles per function of the replay (by index): the bench function it behaves like
     * @param seed     seeds the random policy
     */
    public Simulator(Replay replay, List<BenchProfile.Function> profiles, int nodeCount, NodeShape shape,
                     String policyName, KeepAlive keepAlive, long seed) {
        if (profiles.size() != replay.sources().size()) throw new IllegalArgumentException("one profile per function");
        if (nodeCount < 1) throw new IllegalArgumentException("--nodes must be at least 1, got " + nodeCount);
        this.replay = replay;
        this.profiles = profiles;
        this.names = replay.sources().toArray(String[]::new);
        this.memoryMib = profiles.stream().mapToInt(BenchProfile.Function::memoryMib).toArray();
        this.policy = RoutingPolicy.parse(policyName, new SplittableRandom(seed));
        this.policyName = policyName;
        this.keepAliveLabel = keepAlive.label();
        this.nodes = new SimNode[nodeCount];
        int width = Integer.toString(nodeCount - 1).length();
        for (int i = 0; i < nodeCount; i++) {
            nodes[i] = new SimNode("node-" + "0".repeat(width - Integer.toString(i).length()) + i, shape.cores(),
                    shape.memoryMib(), shape.maxInstances(), keepAlive.perNode().get(), names.length);
            byName.put(nodes[i].name, nodes[i]);
        }
        this.viewList = Arrays.asList(new NodeInfo[nodeCount]);
        this.latencies = new double[replay.size()];
    }

    public SimResult run(Progress progress) {
        int n = replay.size();
        String label = policyName + " × " + keepAliveLabel;
        progress.routed(label, 0, n);
        for (int i = 0; i < n; i++) {
            long t = replay.at()[i];
            drain(t);
            call(t, replay.function()[i], replay.durationMs()[i]);
            if ((i + 1) % PROGRESS_EVERY == 0) progress.routed(label, i + 1, n);
        }
        long end = Math.max(replay.spanNanos(), lastCallEnd);
        drain(end);
        for (SimNode node : nodes) {
            for (int f = 0; f < node.fns.length; f++) {
                while (!node.fns[f].idle.isEmpty()) stop(node.fns[f].idle.peekFirst(), end);
            }
        }
        events.clear();
        progress.routed(label, n, n);
        double[] lat = Arrays.copyOf(latencies, (int) served);
        Arrays.sort(lat);
        return SimResult.of(policyName, keepAliveLabel, n, served, cold, rejected, prewarms, evictions, lat,
                instanceNanos, instanceMibNanos, idleMibNanos, peakMemoryMib, peakInstances, end);
    }

    private long lastCallEnd;

    /** Runs every event due at or before {@code t} (ends and expiries before an arrival at the same time). */
    private void drain(long t) {
        while (!events.isEmpty() && events.peek().at <= t) {
            Event e = events.poll();
            switch (e.kind) {
                case END -> callEnded(e.inst, e.at);
                case EXPIRE -> {
                    if (!e.inst.stopped && e.inst.idleSince >= 0 && e.inst.gen == e.gen) stop(e.inst, e.at);
                }
                case PREWARM -> prewarm(e.node, e.fn, e.gen, e.at);
                case READY -> ready(e.inst, e.at, e.gen);
                case STOP_ALL -> {
                    SimNode.Fn s = e.node.fns[e.fn];
                    if (s.keepGen == e.gen && s.inFlight == 0) while (!s.idle.isEmpty()) stop(s.idle.peekFirst(), e.at);
                }
                default -> throw new IllegalStateException("event kind " + e.kind);
            }
        }
    }

    private void schedule(long at, int kind, SimNode.Instance inst, SimNode node, int fn, long gen) {
        events.add(new Event(at, seq++, kind, inst, node, fn, gen));
    }

    private void call(long t, int fn, int durationMs) {
        for (int i = 0; i < nodes.length; i++) viewList.set(i, nodes[i].view(fn, names[fn], memoryMib[fn]));
        List<NodeInfo> ranked = policy.rank(names[fn], memoryMib[fn], viewList, Map.of());
        BenchProfile.Function p = profiles.get(fn);
        for (NodeInfo candidate : ranked) {
            SimNode node = byName.get(candidate.name());
            SimNode.Fn s = node.fns[fn];
            SimNode.Instance inst = s.idle.pollLast();
            boolean restored = inst == null;
            if (restored) {
                inst = start(node, fn, t);
                if (inst == null) continue; // refused: try the next node
            } else {
                idleMibNanos += (t - inst.idleSince) * (double) memoryMib[fn];
                inst.idleSince = -1;
                inst.gen++;
            }
            if (s.inFlight == 0 && s.idleSince >= 0) node.keepAlive.observeIdle(names[fn], Duration.ofNanos(t - s.idleSince));
            s.inFlight++;
            s.busy++;
            s.idleSince = -1;
            s.keepGen++;
            node.busyTotal++;
            node.stamp++;
            if (restored) cold++;
            double ms = p.latencyMs(durationMs > 0 ? durationMs : p.warmExecMs(), restored);
            latencies[(int) served++] = ms;
            long done = t + Math.round(ms * 1e6);
            lastCallEnd = Math.max(lastCallEnd, done);
            schedule(done, END, inst, node, fn, 0);
            return;
        }
        rejected++;
    }

    /** Reserves room for a new instance (evicting idle ones if that makes room), or null if the node is full. */
    private SimNode.Instance start(SimNode node, int fn, long t) {
        int mem = memoryMib[fn];
        if (!node.fits(mem)) {
            long[] idle = node.idleHeld(memoryMib);
            boolean canFit = node.memoryUsedMib - idle[0] + mem <= node.memoryBudgetMib
                    && node.instances - idle[1] < node.maxInstances;
            if (!canFit) return null;
            while (!node.fits(mem)) {
                stop(node.longestIdle(), t);
                evictions++;
            }
        }
        SimNode.Instance inst = new SimNode.Instance(node, fn, t);
        node.instances++;
        node.memoryUsedMib += mem;
        node.stamp++;
        memoryNowMib += mem;
        instancesNow++;
        peakMemoryMib = Math.max(peakMemoryMib, memoryNowMib);
        peakInstances = Math.max(peakInstances, instancesNow);
        return inst;
    }

    private void stop(SimNode.Instance inst, long t) {
        SimNode node = inst.node;
        int mem = memoryMib[inst.fn];
        if (inst.idleSince >= 0) {
            idleMibNanos += (t - inst.idleSince) * (double) mem;
            node.fns[inst.fn].idle.remove(inst);
        }
        inst.stopped = true;
        inst.idleSince = -1;
        inst.gen++;
        instanceNanos += t - inst.startNanos;
        instanceMibNanos += (t - inst.startNanos) * (double) mem;
        node.instances--;
        node.memoryUsedMib -= mem;
        node.stamp++;
        memoryNowMib -= mem;
        instancesNow--;
    }

    private void callEnded(SimNode.Instance inst, long t) {
        SimNode node = inst.node;
        SimNode.Fn s = node.fns[inst.fn];
        s.busy--;
        s.inFlight--;
        node.busyTotal--;
        if (s.inFlight == 0) s.idleSince = t;
        becomeIdle(inst, t);
    }

    /** An instance with nothing to do: kept for k, or, when the function went quiet under a pre-warm window, stopped now. */
    private void becomeIdle(SimNode.Instance inst, long t) {
        SimNode node = inst.node;
        SimNode.Fn s = node.fns[inst.fn];
        inst.idleSince = t;
        s.idle.addLast(inst);
        node.stamp++;
        KeepAlivePolicy.Windows w = node.keepAlive.windows(names[inst.fn]);
        long p = w.prewarm().toNanos(), k = w.keepAlive().toNanos();
        if (p == 0 || s.inFlight > 0) {
            schedule(t + k, EXPIRE, inst, node, inst.fn, inst.gen);
        } else {
            // the function's last call ended: keep nothing through the gap, have one ready at p, until p + k
            while (!s.idle.isEmpty()) stop(s.idle.peekFirst(), t);
            s.keepGen++;
            schedule(t + p, PREWARM, null, node, inst.fn, s.keepGen);
            schedule(t + p + k, STOP_ALL, null, node, inst.fn, s.keepGen);
        }
    }

    private void prewarm(SimNode node, int fn, long gen, long t) {
        SimNode.Fn s = node.fns[fn];
        if (s.keepGen != gen || s.inFlight > 0 || !s.idle.isEmpty() || s.restoring > 0) return;
        SimNode.Instance inst = start(node, fn, t);
        if (inst == null) return;
        prewarms++;
        s.restoring++;
        node.busyTotal++;
        BenchProfile.Function p = profiles.get(fn);
        schedule(t + Math.round((p.warmOverheadMs() + p.restoreExtraMs()) * 1e6), READY, inst, node, fn, gen);
    }

    private void ready(SimNode.Instance inst, long t, long gen) {
        SimNode node = inst.node;
        SimNode.Fn s = node.fns[inst.fn];
        s.restoring--;
        node.busyTotal--;
        node.stamp++;
        inst.idleSince = t;
        if (s.keepGen == gen) { // the pre-warmed instance, in its window: STOP_ALL ends it unless a call takes it
            s.idle.addLast(inst);
            return;
        }
        // calls came while it restored: it idles like any instance the keeper finds idle now
        KeepAlivePolicy.Windows w = node.keepAlive.windows(names[inst.fn]);
        long p = w.prewarm().toNanos(), k = w.keepAlive().toNanos();
        if (p == 0 || s.inFlight > 0) {
            s.idle.addLast(inst);
            schedule(t + k, EXPIRE, inst, node, inst.fn, inst.gen);
        } else if (t - s.idleSince < p) {
            s.idle.addLast(inst);
            stop(inst, t);
        } else {
            s.idle.addLast(inst); // within the current pre-warm window: its STOP_ALL ends it
        }
    }
}
