package dev.thaw.platform;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Every running instance, and per function a stack of idle ones (most recently used on top, so
 * warm calls reuse the hottest VM and the keep-alive reaper retires the coldest). Also the
 * keeper of the admission budget: an instance holds its reservation from before its VM starts
 * until it is discarded, and room for a new instance is made by evicting the longest-idle one.
 */
final class InstancePool {
    private final Admission admission;
    private final Map<String, Instance> instances = new ConcurrentHashMap<>();
    private final Map<String, Deque<Instance>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    InstancePool(Admission admission) {
        this.admission = admission;
    }

    /**
     * Reserves admission budget for a new instance, evicting the longest-idle instances of any
     * function to make room; a 429 naming the limit when even that is not enough.
     */
    void reserve(int memoryMib) {
        while (!admission.reserveInstance(memoryMib)) {
            Instance victim = null;
            for (Deque<Instance> q : idle.values()) {
                Instance last = q.peekLast();
                if (last != null && (victim == null || last.idleSinceNanos() < victim.idleSinceNanos())) victim = last;
            }
            if (victim == null) throw admission.budgetExhausted(memoryMib);
            if (idleOf(victim.function()).remove(victim)) discard(victim);
        }
    }

    /** Gives back a reservation whose instance never came to be. */
    void unreserve(int memoryMib) {
        admission.releaseInstance(memoryMib);
    }

    /** Adds a new instance (its budget already reserved), busy. */
    Instance register(Instance inst) {
        instances.put(inst.id(), inst);
        inst.markBusy();
        return inst;
    }

    /** The most recently used idle instance of a function, now busy; null if none. */
    Instance takeIdle(String function) {
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

    /** Returns a healthy instance to its function's idle stack, unless {@code cap} are idle already. */
    void release(Instance inst, int cap) {
        Deque<Instance> q = idleOf(inst.function());
        if (closed || !inst.alive() || q.size() >= cap) {
            discard(inst);
            return;
        }
        inst.markIdle();
        q.addFirst(inst);
    }

    /** Parks an instance idle regardless of the cap (prewarmed on request). */
    void park(Instance inst) {
        inst.markIdle();
        idleOf(inst.function()).addFirst(inst);
    }

    void discard(Instance inst) {
        if (instances.remove(inst.id()) != null) admission.releaseInstance(inst.memoryMib());
        Deque<Instance> q = idle.get(inst.function());
        if (q != null) q.remove(inst);
        inst.close();
    }

    /**
     * Stops the function's instances idle since before {@code cutoffNanos}, oldest first, but
     * keeps at least {@code keep} instances running. Returns how many run afterwards.
     */
    long retireIdle(String function, long cutoffNanos, int keep) {
        long running = running(function);
        Deque<Instance> q = idleOf(function);
        for (var it = q.descendingIterator(); it.hasNext() && running > keep; ) {
            Instance inst = it.next();
            if (inst.idleSinceNanos() < cutoffNanos && q.remove(inst)) {
                discard(inst);
                running--;
            }
        }
        return running;
    }

    long running(String function) {
        return instances.values().stream().filter(i -> i.function().equals(function)).count();
    }

    void stopIdle(String function) {
        Deque<Instance> q = idle.get(function);
        if (q != null) for (Instance inst; (inst = q.pollFirst()) != null; ) discard(inst);
    }

    void stopAll(String function) {
        for (Instance inst : new ArrayList<>(instances.values())) {
            if (inst.function().equals(function)) discard(inst);
        }
    }

    void stop(String id) {
        Instance inst = instances.get(id);
        if (inst == null) throw ThawException.notFound("no instance " + id);
        discard(inst);
    }

    List<Instance.Info> infos() {
        return instances.values().stream().map(Instance::info).sorted(Comparator.comparing(Instance.Info::id)).toList();
    }

    /** Instance counts by function and state, for the metrics gauge. */
    Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        for (Instance inst : instances.values()) {
            out.merge(Metrics.labels("function", inst.function(), "state", inst.state().name().toLowerCase()), 1L, Long::sum);
        }
        return out;
    }

    private Deque<Instance> idleOf(String function) {
        return idle.computeIfAbsent(function, k -> new ConcurrentLinkedDeque<>());
    }

    void close() {
        closed = true;
        for (Instance inst : new ArrayList<>(instances.values())) discard(inst);
    }
}
