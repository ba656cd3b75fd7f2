package dev.thaw.cli;

import dev.thaw.cluster.Etcd;
import dev.thaw.gateway.Gateway;
import dev.thaw.gateway.RoutingPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code thaw gateway}: the cluster's front door (docs/cluster.md). */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = {"Route invocations across the nodes of a thaw cluster coordinated through etcd.",
                "Serves the nodes' invoke, async and traces API; keeps no state beyond etcd, so several gateways can run."})
final class GatewayCommand implements Callable<Integer> {
    @Option(names = "--cluster", required = true, paramLabel = "URL[,URL...]", description = "etcd client URLs, e.g. http://127.0.0.1:2379.")
    String cluster;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = {"-p", "--port"}, defaultValue = "8090", description = "Port to listen on. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--policy", defaultValue = "locality", paramLabel = "locality|random|least-loaded",
            description = "Routing: locality (a node with an idle instance, else one with the snapshot and room, else any "
                    + "with room), random (among nodes with the function), least-loaded (busy+queued per core). Default: ${DEFAULT-VALUE}.")
    String policy;

    @Option(names = "--seed", description = "Seed of the random policy (reproducible comparisons). Default: random.")
    Long seed;

    @Option(names = "--invoke-timeout", defaultValue = "120", paramLabel = "SECONDS",
            description = "Longest a forwarded invocation may take before it fails with 502. Default: ${DEFAULT-VALUE}.")
    int invokeTimeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
        RoutingPolicy p = RoutingPolicy.parse(policy, seed == null ? new Random() : new Random(seed));
        Etcd etcd = Etcd.connect(Etcd.parseEndpoints(cluster));
        Gateway g = new Gateway(etcd, p, policy, new InetSocketAddress(host, port), Duration.ofSeconds(invokeTimeoutSeconds)).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { g.close(); etcd.close(); }));
        Boot.progress("gateway listening on http://" + host + ":" + g.port() + " (policy " + policy + ", etcd " + cluster + ")");
        new CountDownLatch(1).await();
        return 0;
    }
}
