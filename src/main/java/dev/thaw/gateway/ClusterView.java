package dev.thaw.gateway;

import dev.thaw.cluster.Etcd;
import dev.thaw.cluster.FunctionRecord;
import dev.thaw.cluster.NodeInfo;
import dev.thaw.cluster.Records;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway's picture of the cluster: live nodes and registered functions, as etcd holds them.
 * A watch on each prefix keeps it current within milliseconds; a full re-read every few seconds
 * ({@link #refresh}) repairs anything a broken watch missed. Nothing here is the gateway's own
 * state: a second gateway on the same etcd sees the same picture.
 */
final class ClusterView implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterView.class.getName());

    private final Etcd etcd;
    private final Map<String, NodeInfo> nodes = new ConcurrentHashMap<>();
    private final Map<String, FunctionRecord> functions = new ConcurrentHashMap<>();
    private final List<AutoCloseable> watches;
    private final Thread refresher;
    private volatile boolean closed;

    ClusterView(Etcd etcd) {
        this.etcd = etcd;
        this.watches = List.of(
                etcd.watch(Etcd.NODES, e -> apply(e, Etcd.NODES), e -> LOG.log(System.Logger.Level.WARNING, "node watch: " + e)),
                etcd.watch(Etcd.FUNCTIONS, e -> apply(e, Etcd.FUNCTIONS), e -> LOG.log(System.Logger.Level.WARNING, "function watch: " + e)));
        refresh();
        this.refresher = Thread.ofPlatform().daemon().name("cluster-view").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(3000);
                    refresh();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot read the cluster from etcd: " + e.getMessage());
                }
            }
        });
    }

    private void apply(Etcd.Event e, String prefix) {
        String name = e.key().substring(prefix.length());
        try {
            if (prefix.equals(Etcd.NODES)) {
                if (e.deleted()) nodes.remove(name); else nodes.put(name, Records.read(e.value(), NodeInfo.class));
            } else {
                if (e.deleted()) functions.remove(name); else functions.put(name, Records.read(e.value(), FunctionRecord.class));
            }
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, e.key() + ": " + ex.getMessage());
        }
    }

    /** Reads both prefixes whole and replaces the picture. */
    void refresh() {
        Map<String, String> n = etcd.list(Etcd.NODES);
        Map<String, String> f = etcd.list(Etcd.FUNCTIONS);
        nodes.keySet().retainAll(n.keySet().stream().map(k -> k.substring(Etcd.NODES.length())).toList());
        n.forEach((k, v) -> apply(new Etcd.Event(k, v), Etcd.NODES));
        functions.keySet().retainAll(f.keySet().stream().map(k -> k.substring(Etcd.FUNCTIONS.length())).toList());
        f.forEach((k, v) -> apply(new Etcd.Event(k, v), Etcd.FUNCTIONS));
    }

    Collection<NodeInfo> nodes() {
        return List.copyOf(nodes.values());
    }

    NodeInfo node(String name) {
        return nodes.get(name);
    }

    FunctionRecord function(String name) {
        return functions.get(name);
    }

    Collection<FunctionRecord> functions() {
        return List.copyOf(functions.values());
    }

    Etcd etcd() {
        return etcd;
    }

    @Override
    public void close() {
        closed = true;
        refresher.interrupt();
        for (AutoCloseable w : watches) {
            try {
                w.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
    }
}
