package dev.thaw.gateway;

import dev.thaw.cluster.NodeInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Where an invocation goes: an ordered list of candidate nodes, best first. The gateway tries
 * them in order while a node refuses (429) or cannot be reached, so the order is the whole
 * policy. Inputs are only what nodes publish in etcd plus the gateway's own calls in flight per
 * node ({@code inflight}), which covers the second between two of a node's updates.
 *
 * <ul>
 *   <li>{@code locality} (the rule): nodes with an idle instance of the function first
 *       (fewest calls in flight first), then nodes that hold the snapshot and have room for one
 *       more instance, then any node with room; a warm hit beats a restore, a local restore beats
 *       a fetch;</li>
 *   <li>{@code random}: nodes that hold the snapshot in random order (the baseline);</li>
 *   <li>{@code least-loaded}: nodes that hold the snapshot by busy + queued + in-flight per core.</li>
 * </ul>
 */
public interface RoutingPolicy {
    List<NodeInfo> rank(String function, int memoryMib, Collection<NodeInfo> nodes, Map<String, Integer> inflight);

    static RoutingPolicy parse(String name, RandomGenerator random) {
        return switch (name) {
            case "locality" -> RoutingPolicy::locality;
            case "random" -> (f, m, nodes, inflight) -> {
                List<NodeInfo> c = new ArrayList<>(nodes.stream().filter(n -> n.load(f) != null).toList());
                for (int i = c.size() - 1; i > 0; i--) java.util.Collections.swap(c, i, random.nextInt(i + 1));
                return c;
            };
            case "least-loaded" -> (f, m, nodes, inflight) -> nodes.stream().filter(n -> n.load(f) != null)
                    .sorted(Comparator.comparingDouble((NodeInfo n) -> load(n, inflight)).thenComparing(NodeInfo::name)).toList();
            default -> throw new IllegalArgumentException("--policy must be locality, random or least-loaded, got \"" + name + "\"");
        };
    }

    private static double load(NodeInfo n, Map<String, Integer> inflight) {
        int busy = 0;
        for (NodeInfo.Load l : n.functions().values()) busy += l.busy() + l.queued();
        return (busy + inflight.getOrDefault(n.name(), 0)) / (double) Math.max(1, n.cores());
    }

    private static List<NodeInfo> locality(String f, int memoryMib, Collection<NodeInfo> nodes, Map<String, Integer> inflight) {
        List<NodeInfo> warm = new ArrayList<>(), local = new ArrayList<>(), any = new ArrayList<>(), rest = new ArrayList<>();
        for (NodeInfo n : nodes) {
            NodeInfo.Load l = n.load(f);
            int mine = inflight.getOrDefault(n.name(), 0);
            if (l != null && l.idle() - mine > 0) warm.add(n);
            else if (l != null && n.hasRoomFor(memoryMib)) local.add(n);
            else if (n.hasRoomFor(memoryMib)) any.add(n);
            else if (l != null) rest.add(n); // full: it may still queue the call, tried last
        }
        Comparator<NodeInfo> byLoad = Comparator.comparingDouble((NodeInfo n) -> load(n, inflight)).thenComparing(NodeInfo::name);
        List<NodeInfo> out = new ArrayList<>();
        for (List<NodeInfo> tier : List.of(warm, local, any, rest)) {
            tier.sort(byLoad);
            out.addAll(tier);
        }
        return out;
    }
}
