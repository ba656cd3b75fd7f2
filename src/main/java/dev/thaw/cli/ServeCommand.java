package dev.thaw.cli;

import dev.thaw.api.ApiServer;
import dev.thaw.cluster.Etcd;
import dev.thaw.cluster.NodeAgent;
import dev.thaw.cluster.SnapshotFetcher;
import dev.thaw.common.AuthToken;
import dev.thaw.platform.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code thaw serve}: the daemon. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the thaw daemon: deploy functions, restore them from snapshots, serve invocations over HTTP.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = {"-p", "--port"}, defaultValue = "8080", description = "Port to listen on. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--max-body", defaultValue = "6291456", description = "Largest request body in bytes (larger gets 413). Default: ${DEFAULT-VALUE} (6 MiB).")
    long maxBody;

    @Option(names = "--auth-token-file", paramLabel = "FILE",
            description = "Require this API token (one line, at least 16 characters) as 'Authorization: Bearer <token>' on "
                    + "every route but GET /healthz; without it, 401. Clients (thaw invoke, app, bench --daemon, load, flow) "
                    + "read the same file from $THAW_AUTH_TOKEN_FILE. Default: no token (listen on loopback only).")
    Path authTokenFile;

    @Option(names = "--functions-root", paramLabel = "DIR",
            description = "Deploy by path ({\"path\": dir}) only from directories under DIR (repeatable; links resolved "
                    + "first); others answer 403 path_not_allowed, and tar uploads still work. Default: any directory.")
    List<Path> functionRoots = new ArrayList<>();

    @Option(names = "--cluster", paramLabel = "URL[,URL...]",
            description = "Join a cluster coordinated through etcd at these client URLs: register this node under a lease, "
                    + "publish its capacity and instances, share deploys with the other nodes (docs/cluster.md). Default: run alone.")
    String cluster;

    @Option(names = "--node-name", paramLabel = "NAME",
            description = "This node's name in the cluster (unique). Default: the host name.")
    String nodeName;

    @Option(names = "--advertise", paramLabel = "URL",
            description = "The base URL gateways and peer nodes reach this daemon at, e.g. http://10.0.0.5:8080. "
                    + "Default: http://<host>:<port>.")
    String advertise;

    @Option(names = "--lease-ttl", defaultValue = "10", paramLabel = "SECONDS",
            description = "Seconds the node's etcd lease lasts without renewal: a node that dies leaves the cluster after "
                    + "at most this long. Default: ${DEFAULT-VALUE}.")
    int leaseTtlSeconds;

    @Option(names = "--fetch-order", defaultValue = "ws-first", paramLabel = "ws-first|whole-file",
            description = "How this node fetches a snapshot it lacks from a peer: ws-first sends the loading set (the pages a "
                    + "restore touches first, in first-touch order) before the rest of memory.sparse, and installs the function "
                    + "early, restorable over userfaultfd while its memory still arrives (snapshots with per-chunk checksums); "
                    + "whole-file sends the file front to back and installs it once complete (the baseline, for measurements). Needs --cluster. Default: ${DEFAULT-VALUE}.")
    String fetchOrder;

    @Mixin
    Boot boot;

    @Override
    public Integer call() throws InterruptedException {
        if (cluster == null && (nodeName != null || advertise != null)) {
            throw new IllegalArgumentException("--node-name and --advertise need --cluster");
        }
        SnapshotFetcher.Order order = SnapshotFetcher.Order.parse(fetchOrder);
        if (cluster == null && order != SnapshotFetcher.Order.WS_FIRST) throw new IllegalArgumentException("--fetch-order needs --cluster");
        if (leaseTtlSeconds < 2 || leaseTtlSeconds > 3600) throw new IllegalArgumentException("--lease-ttl must be 2..3600 seconds, got " + leaseTtlSeconds);
        Etcd etcd = cluster == null ? null : Etcd.connect(Etcd.parseEndpoints(cluster));
        Platform platform = boot.start();
        AuthToken token = authTokenFile == null ? null : AuthToken.read(authTokenFile);
        ApiServer api = new ApiServer(platform, new InetSocketAddress(host, port), maxBody, token, functionRoots).start();
        Runtime.getRuntime().addShutdownHook(new Thread(api::close));
        if (token == null && !new InetSocketAddress(host, port).getAddress().isLoopbackAddress()) {
            Boot.progress("warning: listening on " + host + " without --auth-token-file: anyone who reaches it can deploy and run code");
        }
        Boot.progress("daemon listening on " + api.url() + " (accel " + platform.accel().name().toLowerCase()
                + ", " + platform.functions().size() + " functions deployed)");
        if (etcd != null) {
            String name = nodeName != null ? nodeName : java.net.InetAddress.getLoopbackAddress().getHostName();
            if (nodeName == null) {
                try {
                    name = java.net.InetAddress.getLocalHost().getHostName();
                } catch (java.net.UnknownHostException e) {
                    // keep the loopback name
                }
            }
            NodeAgent agent = new NodeAgent(etcd, platform, new NodeAgent.Identity(name, advertise != null ? advertise : api.url(),
                    boot.limits()), Duration.ofSeconds(leaseTtlSeconds), token, order).start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> { agent.close(); etcd.close(); }));
            Boot.progress("node " + name + " joined the cluster at " + cluster);
        }
        new CountDownLatch(1).await();
        return 0;
    }
}
