package dev.thaw.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The cluster end to end, every part real: a 3-member etcd (Debian's binary), three
 * {@code thaw serve --cluster} processes with their own data directories booting and restoring
 * real VMs (hello at 128 MiB, TCG), and two gateways. One deploy through a gateway; the other
 * nodes fetch the snapshot from the first; calls land on all three; one etcd member killed
 * changes nothing; a node killed with SIGKILL leaves within its lease TTL and the calls go on
 * elsewhere. Slow (a minute or two on two cores): run it alone, {@code mvn test -Dtest=ClusterIT}.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterIT {
    static final int TTL = 5;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    final Map<String, Process> procs = new LinkedHashMap<>();
    EtcdHarness etcd;
    Path dir;
    String gw1, gw2;

    @BeforeAll
    void start() throws Exception {
        etcd = EtcdHarness.start(3, 23790);
        dir = Files.createTempDirectory("thaw-cluster-it");
        for (int i = 1; i <= 3; i++) {
            int port = 18420 + i;
            spawn("n" + i, "serve", "--port", Integer.toString(port), "--data-dir", dir.resolve("n" + i).toString(), "--accel", "tcg",
                    "--cluster", etcd.endpoints(), "--node-name", "n" + i, "--advertise", "http://127.0.0.1:" + port,
                    "--lease-ttl", Integer.toString(TTL), "--idle-timeout", "600");
        }
        spawn("gw1", "gateway", "--cluster", etcd.endpoints(), "--port", "18430", "--policy", "random", "--seed", "1");
        spawn("gw2", "gateway", "--cluster", etcd.endpoints(), "--port", "18431", "--policy", "locality");
        gw1 = "http://127.0.0.1:18430";
        gw2 = "http://127.0.0.1:18431";
        await("three nodes registered", Duration.ofSeconds(120), () -> nodes(gw1).size() == 3 && nodes(gw2).size() == 3);
    }

    @AfterAll
    void stop() throws Exception {
        for (Process p : procs.values()) p.destroy();
        for (Process p : procs.values()) p.waitFor();
        if (etcd != null) etcd.close();
        if (dir != null) FileTrees.delete(dir);
    }

    void spawn(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "dev.thaw.cli.Main"));
        cmd.addAll(List.of(args));
        procs.put(name, new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start());
    }

    Map<String, JsonNode> nodes(String gateway) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateway + "/nodes")).build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode n : Json.parse(r.body()).path("nodes")) out.put(n.path("name").asText(), n);
        } catch (IOException e) {
            // not up yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    HttpResponse<String> invoke(String gateway) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway + "/functions/hello/invoke"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"cluster\"}")).timeout(Duration.ofSeconds(120)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits for other processes (VM boots, leases): polled, since their clocks are not ours to drive. */
    void await(String what, Duration limit, BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail(what + " did not happen in " + limit + "; logs in " + dir + "\n" + tails());
            Thread.sleep(250);
        }
    }

    String tails() throws IOException {
        StringBuilder b = new StringBuilder();
        for (String n : procs.keySet()) {
            List<String> lines = Files.readAllLines(dir.resolve(n + ".log"));
            b.append("== ").append(n).append('\n').append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()))).append('\n');
        }
        return b.toString();
    }

    @Test
    void oneDeployServesFromEveryNodeAndSurvivesAKilledMemberAndAKilledNode() throws Exception {
        Path fn = Files.createDirectories(dir.resolve("fn/hello"));
        Files.copy(Path.of("functions/hello/handler.py"), fn.resolve("handler.py"));
        Files.writeString(fn.resolve("function.json"), "{\"name\": \"hello\", \"memory_mib\": 128, "
                + "\"inputs\": {\"record\": {\"name\": \"record\"}, \"test\": {\"name\": \"test\"}}}");
        HttpResponse<String> deployed = http.send(HttpRequest.newBuilder(URI.create(gw1 + "/functions/hello"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
                        Json.write(Map.of("path", fn.toString())))).timeout(Duration.ofMinutes(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, deployed.statusCode(), deployed.body());
        String snap = Json.parse(deployed.body()).path("snapshot").path("snapshotId").asText();
        await("every node holds snapshot " + snap, Duration.ofSeconds(180), () -> nodes(gw1).values().stream()
                .allMatch(n -> snap.equals(n.path("functions").path("hello").path("snapshot_id").asText())));

        Set<String> served = new HashSet<>();
        for (int i = 0; i < 24 && served.size() < 3; i++) {
            HttpResponse<String> r = invoke(gw1);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("hello, cluster", Json.parse(r.body()).path("result").path("greeting").asText());
            served.add(r.headers().firstValue("X-Thaw-Node").orElseThrow());
        }
        assertEquals(Set.of("n1", "n2", "n3"), served, "calls through the gateway landed on every node");

        etcd.kill(2); // one of three etcd members: nothing visible changes
        for (int i = 0; i < 4; i++) assertEquals(200, invoke(gw2).statusCode(), "second gateway, etcd member down");

        procs.get("n1").destroyForcibly().waitFor(); // SIGKILL
        long killed = System.nanoTime();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = invoke(gw1);
            assertEquals(200, r.statusCode(), "after n1 died: " + r.body());
            assertNotEquals("n1", r.headers().firstValue("X-Thaw-Node").orElseThrow());
        }
        await("n1 drops out", Duration.ofSeconds(TTL + 5), () -> !nodes(gw1).containsKey("n1") && !nodes(gw2).containsKey("n1"));
        long goneMs = (System.nanoTime() - killed) / 1_000_000;
        assertTrue(goneMs <= (TTL + 3) * 1000L, "n1 left " + goneMs + " ms after SIGKILL (lease TTL " + TTL + " s)");
        System.out.println("n1 left the cluster " + goneMs + " ms after SIGKILL");
    }
}
