package dev.thaw.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ApiServer;
import dev.thaw.common.Json;
import dev.thaw.gateway.Gateway;
import dev.thaw.gateway.RoutingPolicy;
import dev.thaw.platform.FakePlatform;
import dev.thaw.platform.Limits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two nodes (fake guests, real platforms, real API servers), a real etcd and a gateway in this
 * process: registration, the registry (deploy on one node, fetch on the other, undeploy
 * everywhere), routing across nodes, and a node that stops answering. The node loops are driven
 * by calling {@code tick} directly, so nothing waits on a timer.
 */
class ClusterTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    EtcdHarness etcdProc;
    Etcd etcd;
    Node a, b;
    Gateway gateway;

    record Node(FakePlatform fake, ApiServer api, NodeAgent agent) implements AutoCloseable {
        @Override
        public void close() {
            agent.close();
            api.close();
            fake.close();
        }
    }

    Node node(String name) {
        FakePlatform fake = new FakePlatform(new Limits(8, 4096, 2, 4, Duration.ofSeconds(5)));
        ApiServer api = new ApiServer(fake.platform, new InetSocketAddress("127.0.0.1", 0), 1 << 20).start();
        NodeAgent agent = new NodeAgent(etcd, fake.platform, new NodeAgent.Identity(name, api.url(),
                new Limits(8, 4096, 2, 4, Duration.ofSeconds(5))), Duration.ofSeconds(5));
        return new Node(fake, api, agent);
    }

    @BeforeEach
    void start() throws Exception {
        etcdProc = EtcdHarness.start(1, 23798);
        etcd = etcdProc.connect();
        a = node("a");
        b = node("b");
    }

    @AfterEach
    void stop() {
        if (gateway != null) gateway.close();
        for (Node n : new Node[]{a, b}) if (n != null) n.close();
        if (etcd != null) etcd.close();
        if (etcdProc != null) etcdProc.close();
    }

    static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    void tickBoth() throws InterruptedException {
        a.agent().tick(System.nanoTime());
        b.agent().tick(System.nanoTime());
        a.agent().awaitFetches();
        b.agent().awaitFetches();
        a.agent().tick(System.nanoTime());
        b.agent().tick(System.nanoTime());
    }

    @Test
    void nodesRegisterWithCapacityAndLoad() {
        a.fake().deploy("hello");
        a.agent().tick(System.nanoTime());
        NodeInfo info = Records.read(etcd.get(Etcd.NODES + "a"), NodeInfo.class);
        assertEquals(a.api().url(), info.url());
        assertEquals(4096, info.memoryBudgetMib());
        assertEquals("fake", info.imageKey());
        assertNotNull(info.load("hello").snapshotId());
    }

    @Test
    void aDeployOnOneNodeReachesTheOtherAndAnUndeployLeavesBoth() throws Exception {
        String snap = a.fake().deploy("hello").snapshot().snapshotId();
        tickBoth();
        FunctionRecord r = Records.read(etcd.get(Etcd.FUNCTIONS + "hello"), FunctionRecord.class);
        assertEquals(snap, r.snapshotId());
        assertEquals("a", r.origin());
        assertNotNull(etcd.get(Etcd.BUNDLES + r.codeHash()));
        assertEquals(snap, b.fake().platform.function("hello").snapshot().snapshotId(), "b fetched a's snapshot");
        String metrics = b.fake().platform.metrics().render();
        assertTrue(metrics.contains("thaw_snapshot_fetches_total{function=\"hello\"} 1.0"), metrics);
        assertTrue(metrics.contains("thaw_snapshot_fetch_installed_ms{function=\"hello\"}"), "the fetch's stamps are exposed");
        assertFalse(metrics.contains("thaw_snapshot_fetch_retries_total"), "nothing was refetched");
        assertFalse(a.fake().platform.metrics().render().contains("thaw_snapshot_fetches_total{"), "a built it, fetched nothing");
        assertEquals(200, post(b.api().url() + "/functions/hello/invoke?mode=vanilla", "{\"x\": 1}").statusCode());

        b.fake().platform.undeploy("hello"); // through b: the cluster forgets it, then a removes its copy
        tickBoth();
        assertNull(etcd.get(Etcd.FUNCTIONS + "hello"));
        a.agent().tick(System.nanoTime());
        assertTrue(a.fake().platform.functions().isEmpty());
    }

    @Test
    void theGatewaySpreadsCallsAndSkipsANodeThatIsGone() throws Exception {
        a.fake().deploy("hello");
        tickBoth();
        gateway = new Gateway(etcd, RoutingPolicy.parse("random", new Random(1)), "random",
                new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(10)).start();
        String url = "http://127.0.0.1:" + gateway.port();
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            HttpResponse<String> r = post(url + "/functions/hello/invoke", "{}");
            assertEquals(200, r.statusCode(), r.body());
            served.add(r.headers().firstValue("X-Thaw-Node").orElseThrow());
        }
        assertEquals(Set.of("a", "b"), served);

        JsonNode traces = Json.parse(HTTP.send(HttpRequest.newBuilder(URI.create(url + "/traces?limit=50")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertTrue(traces.path("data").size() >= 12, "merged traces of both nodes: " + traces.path("data").size());

        a.api().close(); // a stops answering before its lease is gone: every call still lands on b
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = post(url + "/functions/hello/invoke", "{}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("b", r.headers().firstValue("X-Thaw-Node").orElseThrow());
        }
        assertEquals(404, post(url + "/functions/nope/invoke", "{}").statusCode());
    }

    @Test
    void aNodeThatDiesDuringACallFailsItWith502AndDoesNotRunItTwice() throws Exception {
        a.fake().deploy("hello");
        a.agent().tick(System.nanoTime());
        gateway = new Gateway(etcd, RoutingPolicy.parse("locality", new Random(1)), "locality",
                new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(10)).start();
        b.agent().tick(System.nanoTime()); // b is registered (room, no copy yet): a retry could go there
        var call = HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/functions/hello/invoke"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"gate\": \"g\"}")).build(), HttpResponse.BodyHandlers.ofString());
        a.fake().launcher.awaitAtGate(1); // the guest has the event
        a.api().close();                  // and its node goes away mid-call
        HttpResponse<String> r = call.get(10, java.util.concurrent.TimeUnit.SECONDS);
        a.fake().launcher.gate("g").countDown();
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("node_failed", Json.parse(r.body()).path("error").path("code").asText());
        assertTrue(b.fake().launcher.launched().isEmpty(), "never sent to a second node");
    }

    @Test
    void aGatewayWithATokenRefusesCallsWithoutIt() throws Exception {
        a.fake().deploy("hello");
        tickBoth();
        dev.thaw.common.AuthToken token = new dev.thaw.common.AuthToken("0123456789abcdef0123");
        gateway = new Gateway(etcd, RoutingPolicy.parse("locality", new Random(1)), "locality",
                new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(10), token).start();
        String url = "http://127.0.0.1:" + gateway.port();
        HttpResponse<String> refused = post(url + "/functions/hello/invoke", "{}");
        assertEquals(401, refused.statusCode());
        assertEquals("unauthorized", Json.parse(refused.body()).path("error").path("code").asText());
        HttpResponse<String> ok = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/functions/hello/invoke"))
                .header("Authorization", token.bearer()).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create(url + "/healthz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void aNodeThatLostItsLeaseRegistersAgain() {
        a.agent().tick(System.nanoTime());
        etcd.revoke(a.agent().lease()); // what an expiry does while the node cannot reach etcd
        assertNull(etcd.get(Etcd.NODES + "a"));
        a.agent().tick(System.nanoTime() + Duration.ofSeconds(10).toNanos());
        assertNotNull(etcd.get(Etcd.NODES + "a"), "registered again");
    }

    /**
     * Gives a's deployment of {@code name} a working-set record and a memory.sparse with chunk
     * sums, as a current deploy on a real VM has (the fake deploy records nothing), and installs
     * it in place under the same snapshot id.
     */
    void recordOnA(String name) throws Exception {
        a.fake().deploy(name);
        java.nio.file.Path live = a.fake().platform.snapshotDir(name).getParent();
        java.nio.file.Path staging = a.fake().platform.newStaging(name);
        try (var paths = java.nio.file.Files.walk(live)) {
            for (java.nio.file.Path p : paths.toList()) {
                java.nio.file.Path t = staging.resolve(live.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) java.nio.file.Files.createDirectories(t); else java.nio.file.Files.copy(p, t);
            }
        }
        java.nio.file.Path snap = staging.resolve("snapshot");
        var m = dev.thaw.snapshot.Snapshot.open(snap).manifest();
        java.util.BitSet group = new java.util.BitSet();
        group.set(0, 4);
        java.util.BitSet zero = new java.util.BitSet();
        zero.set(8, 16);
        dev.thaw.memory.WorkingSet.of(m.snapshotId(), 16, 4, java.util.List.of(group), zero).write(snap.resolve("ws.json"));
        dev.thaw.memory.Prefetcher.writeSparseCopy(snap.resolve("memory"), snap.resolve("memory.sparse"), zero);
        dev.thaw.snapshot.SnapshotWriter.seal(snap, m.snapshotId(), name, a.fake().image, dev.thaw.vm.VmConfig.boot(a.fake().image,
                m.machine().memoryMib(), m.machine().vcpus(), dev.thaw.vm.Accel.TCG, snap.resolve("memory")));
        a.fake().platform.install(name, staging);
    }

    @Test
    void aFetchingNodeInstallsEarlyAndIsInStepOnceComplete() throws Exception {
        recordOnA("hello");
        String snap = a.fake().platform.function("hello").snapshot().snapshotId();
        assertNotNull(a.fake().platform.function("hello").snapshot().file("memory.sparse").chunks(), "sealed with chunk sums");
        tickBoth();
        String metrics = b.fake().platform.metrics().render();
        assertTrue(metrics.contains("thaw_snapshot_fetch_early_ms{function=\"hello\"}"), "b installed hello early: " + metrics);
        assertTrue(metrics.contains("thaw_snapshot_fetch_installed_ms{function=\"hello\"}"), "and completed the fetch");
        assertEquals(snap, b.fake().platform.function("hello").snapshot().snapshotId());
        assertEquals(snap, Records.read(etcd.get(Etcd.NODES + "b"), NodeInfo.class).load("hello").snapshotId(),
                "complete: b offers the snapshot to peers");
        assertEquals(snap, Records.read(etcd.get(Etcd.FUNCTIONS + "hello"), FunctionRecord.class).snapshotId(), "registry untouched");
        assertEquals("a", Records.read(etcd.get(Etcd.FUNCTIONS + "hello"), FunctionRecord.class).origin(), "b announced nothing");
        b.fake().platform.snapshotFile("hello", "memory"); // complete, not pending
        assertEquals(200, post(b.api().url() + "/functions/hello/invoke?mode=vanilla", "{}").statusCode());
    }
}
