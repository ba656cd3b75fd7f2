package dev.thaw.sim;

import dev.thaw.cluster.NodeInfo;
import dev.thaw.scale.KeepAlivePolicy;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * One simulated node: its limits, its instances per function and its own keep-alive policy (each
 * node's keeper learns from the calls it served, as a real node does). The state is mutated only
 * by {@link Simulator}; {@link #view} renders it as the {@link NodeInfo} a node would publish in
 * etcd, which is all the routing policy sees.
 *
 * <p>The view carries the routed function's entry and, when other functions have busy instances,
 * one aggregate entry {@code (others)} with their count: the policies read only the routed
 * function's entry and the node's total busy count, so this is exact for them and keeps a view's
 * size independent of how many functions the trace has. Views are cached per function and rebuilt
 * only after the node changed ({@link #stamp}).
 */
final class SimNode {
    static final long NEVER = Long.MIN_VALUE;

    /** One instance: restoring, busy or idle, until stopped. */
    static final class Instance {
        final SimNode node;
        final int fn;
        final long startNanos;
        long idleSince = -1; // -1 while restoring or busy
        long gen; // bumped whenever it leaves the idle state, so stale expiries are ignored
        boolean stopped;

        Instance(SimNode node, int fn, long startNanos) {
            this.node = node;
            this.fn = fn;
            this.startNanos = startNanos;
        }
    }

    /** A function on this node. */
    static final class Fn {
        final ArrayDeque<Instance> idle = new ArrayDeque<>(); // last = most recently used, first = longest idle
        int busy; // serving a call
        int restoring; // pre-warm restores in progress
        int inFlight;
        long idleSince = NEVER; // when its last call ended with none in flight; -1 while one runs
        long keepGen; // bumped on every call start: cancels pending pre-warms and stops
    }

    final String name;
    final int cores;
    final long memoryBudgetMib;
    final int maxInstances;
    final KeepAlivePolicy keepAlive;
    final Fn[] fns;
    int instances;
    long memoryUsedMib;
    int busyTotal; // busy + restoring over all functions
    long stamp;
    private final NodeInfo[] views;
    private final long[] viewStamps;

    SimNode(String name, int cores, long memoryBudgetMib, int maxInstances, KeepAlivePolicy keepAlive, int functions) {
        this.name = name;
        this.cores = cores;
        this.memoryBudgetMib = memoryBudgetMib;
        this.maxInstances = maxInstances;
        this.keepAlive = keepAlive;
        this.fns = new Fn[functions];
        for (int i = 0; i < functions; i++) fns[i] = new Fn();
        this.views = new NodeInfo[functions];
        this.viewStamps = new long[functions];
    }

    boolean fits(int memoryMib) {
        return instances < maxInstances && memoryUsedMib + memoryMib <= memoryBudgetMib;
    }

    /** The longest-idle instance of any function (the platform's eviction order), or null. */
    Instance longestIdle() {
        Instance best = null;
        for (Fn f : fns) {
            Instance i = f.idle.peekFirst();
            if (i != null && (best == null || i.idleSince < best.idleSince)) best = i;
        }
        return best;
    }

    /** Memory that stopping every idle instance would free, and their count. */
    long[] idleHeld(int[] memoryMib) {
        long mem = 0, n = 0;
        for (int f = 0; f < fns.length; f++) {
            mem += (long) fns[f].idle.size() * memoryMib[f];
            n += fns[f].idle.size();
        }
        return new long[] {mem, n};
    }

    NodeInfo view(int fn, String function, int memoryMib) {
        if (views[fn] != null && viewStamps[fn] == stamp) return views[fn];
        Fn f = fns[fn];
        Map<String, NodeInfo.Load> loads = new HashMap<>(4);
        loads.put(function, new NodeInfo.Load(f.idle.size(), f.busy + f.restoring, 0, "sim", memoryMib));
        int others = busyTotal - f.busy - f.restoring;
        if (others > 0) loads.put("(others)", new NodeInfo.Load(0, others, 0, "sim", 0));
        NodeInfo v = new NodeInfo(name, "sim://" + name, cores, memoryBudgetMib, maxInstances, "sim", "sim", instances,
                memoryUsedMib, loads);
        views[fn] = v;
        viewStamps[fn] = stamp;
        return v;
    }
}
