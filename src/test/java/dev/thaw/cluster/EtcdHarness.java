package dev.thaw.cluster;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * A real etcd for tests: Debian's {@code etcd} binary, one or more members on loopback, data in a
 * temporary directory, torn down with the test. The binary is installed with apt when missing (as
 * {@code ./thaw} does for the cluster commands); only when that is impossible are the tests
 * skipped, with the reason.
 *
 * <p>Ports come from the caller (this project's helpers each own a range), client port
 * {@code base + i}, peer port {@code base + members + i}.
 */
public final class EtcdHarness implements AutoCloseable {
    private final Path dir;
    private final int members;
    private final int basePort;
    private final List<Process> processes = new ArrayList<>();

    private EtcdHarness(Path dir, int members, int basePort) {
        this.dir = dir;
        this.members = members;
        this.basePort = basePort;
    }

    public static EtcdHarness start(int members, int basePort) throws IOException, InterruptedException {
        String binary = ensureBinary();
        for (int port = basePort; port < basePort + 2 * members; port++) {
            // Another etcd on these ports would answer our health check and the test would run against it.
            try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                throw new IllegalStateException("port " + port + " (etcd " + (port < basePort + members ? "client" : "peer")
                        + ") is in use: another etcd or test is running there", e);
            }
        }
        EtcdHarness h = new EtcdHarness(Files.createTempDirectory("thaw-etcd"), members, basePort);
        try {
            for (int i = 0; i < members; i++) h.processes.add(h.launch(binary, i));
            h.awaitHealthy(Duration.ofSeconds(30));
        } catch (IOException | InterruptedException | RuntimeException e) {
            h.close();
            throw e;
        }
        return h;
    }

    /** The etcd binary, installed from Debian's etcd-server if missing; skips the test if that cannot be done. */
    static String ensureBinary() throws InterruptedException {
        for (String p : List.of("/usr/bin/etcd", "/usr/local/bin/etcd")) if (Files.isExecutable(Path.of(p))) return p;
        try {
            Process apt = new ProcessBuilder("apt-get", "install", "-y", "-q", "etcd-server")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            apt.waitFor();
        } catch (IOException e) {
            // reported below
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/etcd")),
                "etcd is not installed and `apt-get install etcd-server` failed (not root, or no package source): "
                        + "skipping the tests that need a real etcd");
        return "/usr/bin/etcd";
    }

    private String name(int i) {
        return "m" + i;
    }

    public String clientUrl(int i) {
        return "http://127.0.0.1:" + (basePort + i);
    }

    private String peerUrl(int i) {
        return "http://127.0.0.1:" + (basePort + members + i);
    }

    /** All client URLs, comma-separated: the {@code --cluster} value. */
    public String endpoints() {
        StringJoiner j = new StringJoiner(",");
        for (int i = 0; i < members; i++) j.add(clientUrl(i));
        return j.toString();
    }

    public List<String> endpointList() {
        return Etcd.parseEndpoints(endpoints());
    }

    /**
     * A client for this etcd whose calls wait {@link #CALL_TIMEOUT}, not the product's 3 s: on a
     * loaded CI machine a lease grant (one fsync) has taken longer, and the tests are about the
     * answer, not about how fast a busy disk gives it.
     */
    public Etcd connect() {
        return Etcd.connect(endpointList(), CALL_TIMEOUT);
    }

    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private Process launch(String binary, int i) throws IOException {
        StringJoiner cluster = new StringJoiner(",");
        for (int m = 0; m < members; m++) cluster.add(name(m) + "=" + peerUrl(m));
        Path data = dir.resolve(name(i));
        // setpriv: a test JVM that crashes or is killed takes its etcd with it, instead of leaving
        // a member on the fixed ports that the next run then finds in use.
        return new ProcessBuilder("setpriv", "--pdeathsig", "KILL", "--", binary, "--name", name(i), "--data-dir", data.toString(),
                "--listen-client-urls", clientUrl(i), "--advertise-client-urls", clientUrl(i),
                "--listen-peer-urls", peerUrl(i), "--initial-advertise-peer-urls", peerUrl(i),
                "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new",
                "--initial-cluster-token", "thaw-test-" + basePort, "--heartbeat-interval", "100", "--election-timeout", "1000")
                .redirectErrorStream(true).redirectOutput(dir.resolve(name(i) + ".log").toFile()).start();
    }

    private void awaitHealthy(Duration limit) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + limit.toNanos();
        for (int i = 0; i < members; i++) {
            while (true) {
                if (!processes.get(i).isAlive()) throw new IllegalStateException("etcd member " + i + " exited; see " + dir.resolve(name(i) + ".log"));
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(clientUrl(i) + "/health"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && r.body().contains("true")) break;
                } catch (IOException e) {
                    // not up yet
                }
                if (System.nanoTime() > deadline) throw new IllegalStateException("etcd did not become healthy in " + limit);
                Thread.sleep(100); // waiting for an external process, not for our own code
            }
        }
    }

    /** SIGKILLs member {@code i}. */
    public void kill(int i) throws InterruptedException {
        processes.get(i).destroyForcibly().waitFor();
    }

    @Override
    public void close() {
        for (Process p : processes) p.destroyForcibly();
        for (Process p : processes) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        dev.thaw.common.FileTrees.delete(dir);
    }
}
