package dev.thaw.flow;

import dev.thaw.trace.Span;
import dev.thaw.trace.SpanTags;
import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceReader;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.ApiServer;
import dev.thaw.client.DaemonClient;
import dev.thaw.cli.Main;
import dev.thaw.common.FileTrees;
import dev.thaw.common.Json;
import dev.thaw.common.ThawDirs;
import dev.thaw.guest.GuestImage;
import dev.thaw.guest.ImageBuilder;
import dev.thaw.platform.Limits;
import dev.thaw.platform.Platform;
import dev.thaw.platform.QemuPlatform;
import dev.thaw.vm.Accel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The example applications (apps/) on real VMs behind the real HTTP API, and the flow analysis
 * of the traces the daemon records for them: call parentage and traceparent continuation
 * (chain), the critical path through the straggler (mapreduce), the bottleneck and the cold
 * starts on the path (pipeline), and errors of calls between functions (relay, a test function).
 *
 * <p>Its own platform, so the call-depth limit can be 3: a self-recursion then needs four VMs,
 * not seventeen. Deploys (about 10 s each under TCG) dominate the run time.
 */
@EnabledIfSystemProperty(named = "thaw.it", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AppsIT {
    static final int MAX_CALL_DEPTH = 3;
    static final Path REPO = Path.of(System.getProperty("user.dir"));

    Path dataDir;
    Path runDir;
    Platform platform;
    ApiServer api;
    DaemonClient client;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start() throws IOException {
        dataDir = Files.createTempDirectory(Path.of("/var/tmp"), "thaw-apps-it-data-");
        runDir = Files.createTempDirectory(Path.of("/tmp"), "thaw-apps-it-");
        GuestImage image = new ImageBuilder(ThawDirs.cache()).ensure(System.err::println);
        // Room for every instance the tests keep idle (15), so no test's instances are evicted by another's;
        // idle instances outlive the whole run, so "warm" runs really are warm.
        Limits limits = new Limits(24, 8192, 8, 64, Duration.ofSeconds(30));
        platform = QemuPlatform.open(new Platform.Config(dataDir, runDir, ThawDirs.cache(), Duration.ofSeconds(60), 4,
                Duration.ofMinutes(30), limits, null, 0, null, MAX_CALL_DEPTH, null), image, Accel.TCG);
        api = new ApiServer(platform, new InetSocketAddress("127.0.0.1", 0), 1 << 20).start();
        client = new DaemonClient(api.url());
        for (String app : List.of("chain", "mapreduce", "pipeline")) {
            CliRun r = cli("app", "deploy", REPO.resolve("apps").resolve(app).toString(), "--daemon", api.url());
            assertEquals(0, r.exit, r.out + r.err);
        }
        client.deploy("relay", REPO.resolve("src/test/resources/functions/relay"));
    }

    @AfterAll
    void stop() {
        if (api != null) api.close();
        if (platform != null) platform.close();
        if (dataDir != null) FileTrees.delete(dataDir);
        if (runDir != null) FileTrees.delete(runDir);
    }

    // ---------------------------------------------------------------- chain

    @Test
    void chainIsOneTraceOfThreeNestedInvocationsContinuingTheCallersTraceparent() throws Exception {
        String callerTrace = hex(16);
        String callerSpan = hex(8);
        HttpResponse<String> r = post("/functions/chain-a/invoke", "{\"sentences\": 4, \"seed\": 3}",
                "00-" + callerTrace + "-" + callerSpan + "-01");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode answer = Json.parse(r.body());
        assertEquals(List.of("chain-a", "chain-b", "chain-c"), texts(answer.at("/result/chain/trail")));
        assertEquals(32, answer.at("/result/chain/words").asInt());

        String traceparent = r.headers().firstValue("traceparent").orElseThrow();
        assertTrue(traceparent.matches("00-" + callerTrace + "-[0-9a-f]{16}-0[13]"), traceparent);
        String invokeSpan = traceparent.substring(36, 52);
        assertNotEquals(callerSpan, invokeSpan);
        assertEquals(callerTrace, answer.path("trace_id").asText());

        // Zipkin here, Jaeger elsewhere: both as the daemon serves them.
        Trace trace = only(TraceReader.parse("daemon", Json.write(client.get("/traces/" + callerTrace + "?format=zipkin"))).traces());
        Span a = invocation(trace, "chain-a");
        Span b = invocation(trace, "chain-b");
        Span c = invocation(trace, "chain-c");
        assertEquals(invokeSpan, a.spanId(), "the answer's traceparent names chain-a's invocation span");
        assertEquals(callerSpan, a.parentId(), "chain-a continues the caller's span");
        assertEquals(guestExec(trace, a).spanId(), b.parentId(), "chain-b runs inside chain-a's guest execution");
        assertEquals(guestExec(trace, b).spanId(), c.parentId(), "chain-c runs inside chain-b's guest execution");
        assertTrue(a.startUs() <= b.startUs() && b.endUs() <= a.endUs() && b.startUs() <= c.startUs() && c.endUs() <= b.endUs(),
                "callee spans nest in time");

        FlowReport report = FlowAnalysis.analyze(List.of(trace));
        assertEquals(Set.of("chain-a->chain-b", "chain-b->chain-c"), edges(report));
        assertEquals(3, report.summary().shape().depthMax());
        assertEquals(List.of("chain-a", "chain-b", "chain-c", "chain-b", "chain-a"), functionsAlongPath(report.traces().getFirst()));

        // Without a traceparent, each call starts its own trace, and GET /traces finds it by any of its functions.
        List<String> own = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> fresh = post("/functions/chain-a/invoke", "{\"seed\": " + i + "}", null);
            assertEquals(200, fresh.statusCode(), fresh.body());
            String id = Json.parse(fresh.body()).path("trace_id").asText();
            assertEquals(id, fresh.headers().firstValue("traceparent").orElseThrow().substring(3, 35));
            own.add(id);
        }
        List<Trace> byCallee = traces("chain-c", 10);
        for (String id : own) {
            Trace t = byCallee.stream().filter(x -> x.traceId().equals(id)).findFirst().orElseThrow(() -> new AssertionError("trace " + id));
            assertEquals(3, t.spans().stream().filter(s -> s.operation().startsWith(SpanTags.INVOKE_PREFIX)).count());
        }
        assertFalse(own.contains(callerTrace));
    }

    // ---------------------------------------------------------------- mapreduce

    @Test
    void mapReduceCriticalPathRunsThroughTheSlowestWorkerOnly() {
        String event = "{\"n\": 4, \"work_ms\": 200, \"slow_ms\": 1500, \"slow\": 1, \"words\": 400}";
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JsonNode r = client.invoke("mr-driver", "warm", Json.parse(event));
            assertEquals(400, r.at("/result/words").asInt(), r.toString());
            assertEquals(4, r.at("/result/took_ms").size());
            ids.add(r.path("trace_id").asText());
        }
        // The first run may restore workers (their restores vary by more than the straggler's lead
        // on a busy host); the later ones find four idle workers.
        List<Trace> warm = select(traces("mr-driver", 10), ids.subList(1, 3));
        FlowReport report = FlowAnalysis.analyze(warm);
        for (int t = 0; t < warm.size(); t++) {
            Trace trace = warm.get(t);
            List<Span> workers = invocations(trace, "mr-worker");
            assertEquals(4, workers.size());
            Span slowest = workers.stream().max((x, y) -> Long.compare(x.durationUs(), y.durationUs())).orElseThrow();
            assertTrue(slowest.durationUs() >= 1_500_000, "the straggler slept 1.5 s: " + slowest);
            workers.stream().filter(w -> w != slowest).forEach(w ->
                    assertTrue(w.durationUs() < 1_500_000, "the other workers were given 200 ms: " + w));

            Set<String> onPath = invocationsOnPath(trace, report.traces().get(t), "mr-worker");
            assertEquals(Set.of(slowest.spanId()), onPath, "only the slowest worker is on the critical path of " + trace.traceId());
        }
        FlowReport.EdgeStats edge = report.edges().stream().filter(e -> e.callee().equals("mr-worker")).findFirst().orElseThrow();
        assertEquals(8, edge.calls());
        assertEquals(2, edge.callsOnPath(), "one call per trace on the path");
        assertEquals("mr-worker", report.functions().getFirst().function(), "the straggler dominates the path");
    }

    // ---------------------------------------------------------------- pipeline

    @Test
    void pipelineBottleneckIsTheTransformAndItsShareGrowsWithItsDelay() {
        invokePipeline(0); // instances for every stage, so the runs below are warm
        List<String> shortDelay = List.of(invokePipeline(300), invokePipeline(300));
        List<String> longDelay = List.of(invokePipeline(1500), invokePipeline(1500));
        List<Trace> all = traces("pipe-ingest", 20);
        FlowReport low = FlowAnalysis.analyze(select(all, shortDelay));
        FlowReport high = FlowAnalysis.analyze(select(all, longDelay));

        assertEquals("pipe-transform", low.functions().getFirst().function(), "bottleneck with 300 ms: " + low.functions());
        assertEquals("pipe-transform", high.functions().getFirst().function(), "bottleneck with 1500 ms: " + high.functions());
        double lowShare = low.functions().getFirst().pathShareP50();
        double highShare = high.functions().getFirst().pathShareP50();
        System.err.printf("pipe-transform critical-path share: %.1f%% at delay 300 ms, %.1f%% at 1500 ms%n", lowShare * 100, highShare * 100);
        assertTrue(highShare > lowShare, "share grows with the delay: " + lowShare + " -> " + highShare);
        assertTrue(high.functions().getFirst().pathUsP50() >= 1_500_000, high.functions().getFirst().toString());
        assertEquals(List.of(), high.coldStarts(), "warm runs have no cold start on the path");
    }

    @Test
    void aColdCalleeOnTheCriticalPathIsReportedWithTheTimeItAdded() {
        invokePipeline(0);
        int stopped = 0;
        for (JsonNode inst : client.get("/instances").path("instances")) {
            String f = inst.path("function").asText();
            if (f.equals("pipe-transform") || f.equals("pipe-store")) {
                client.delete("/instances/" + inst.path("id").asText());
                stopped++;
            }
        }
        assertTrue(stopped >= 2, "the warm-up left instances of both callees");
        String traceId = invokePipeline(100);

        // Through the command line, as a user would ask: the newest pipeline trace is ours.
        CliRun flow = cli("flow", "--daemon", api.url(), "--function", "pipe-ingest", "--limit", "1", "--format", "json");
        assertEquals(0, flow.exit, flow.err);
        JsonNode report = Json.parse(flow.out);
        assertEquals(traceId, report.at("/traces/0/trace_id").asText(), flow.out);

        Trace trace = only(select(traces("pipe-ingest", 5), List.of(traceId)));
        Map<String, JsonNode> colds = new HashMap<>();
        for (JsonNode c : report.path("cold_starts")) colds.put(c.path("function").asText(), c);
        assertEquals(Set.of("pipe-transform", "pipe-store"), colds.keySet(), flow.out);
        for (String f : List.of("pipe-transform", "pipe-store")) {
            JsonNode c = colds.get(f);
            long phases = trace.spans().stream()
                    .filter(s -> s.function().equals(f) && SpanTags.RESTORE_PHASES.contains(s.operation())
                            && !s.operation().equals(SpanTags.PREFETCH)) // thaw (like FaaSnap) installs beside the restore
                    .mapToLong(Span::durationUs).sum();
            assertTrue(phases > 0, f + " was restored");
            assertEquals("thaw", c.path("strategy").asText(), "the default warm-miss restore");
            assertEquals("phases", c.path("source").asText());
            assertTrue(c.path("restore_us").asLong() >= phases, f + ": restore " + c + " covers its phases (" + phases + " µs)");
            assertTrue(c.path("on_path_us").asLong() > 0 && c.path("on_path_us").asLong() <= c.path("restore_us").asLong(), c.toString());
        }
        Set<String> recommended = new LinkedHashSet<>();
        report.path("recommendations").forEach(r -> recommended.add(r.path("function").asText()));
        assertEquals(Set.of("pipe-transform", "pipe-store"), recommended, flow.out);
    }

    /** Runs the pipeline warm with 10 records and the given delay; returns the trace id. */
    private String invokePipeline(int delayMs) {
        JsonNode r = client.invoke("pipe-ingest", "warm", Json.parse("{\"records\": 10, \"delay_ms\": " + delayMs + ", \"seed\": 5}"));
        JsonNode result = r.path("result");
        assertEquals(result.path("ingested").asInt() - result.path("dropped").asInt(), result.at("/transform/store/stored").asInt(), r.toString());
        return r.path("trace_id").asText();
    }

    // ---------------------------------------------------------------- errors

    @Test
    void callingAnUnknownFunctionRaisesInvocationErrorInTheCaller() throws Exception {
        HttpResponse<String> r = post("/functions/relay/invoke", "{\"call\": \"no-such-function\"}", null);
        assertEquals(500, r.statusCode(), r.body());
        JsonNode error = Json.parse(r.body()).path("error");
        assertEquals("handler_error", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("raised InvocationError"), r.body());
        assertTrue(error.path("message").asText().contains("no function named \"no-such-function\""), r.body());
        assertTrue(error.path("traceback").asText().contains("thaw.invoke"), r.body());
    }

    @Test
    void recursionBeyondTheCallDepthLimitRaisesInvocationError() throws Exception {
        HttpResponse<String> r = post("/functions/relay/invoke", "{\"recurse\": true}", null);
        assertEquals(500, r.statusCode(), r.body());
        String message = Json.parse(r.body()).at("/error/message").asText();
        assertTrue(message.startsWith("relay raised InvocationError"), message);
        assertTrue(message.contains("exceeds the call depth limit of " + MAX_CALL_DEPTH), message);

        // Calls at depth 1..3 ran and failed in turn; the one at depth 4 was refused before it ran.
        Trace trace = traces("relay", 1).getFirst();
        FlowReport report = FlowAnalysis.analyze(List.of(trace));
        assertEquals(MAX_CALL_DEPTH + 1, invocations(trace, "relay").size());
        assertEquals(MAX_CALL_DEPTH + 1, report.summary().shape().depthMax());
        FlowReport.EdgeStats self = report.edges().getFirst();
        assertEquals("relay->relay", self.caller() + "->" + self.callee());
        assertEquals(MAX_CALL_DEPTH, self.calls());
        assertEquals(MAX_CALL_DEPTH, self.errors());
    }

    // ---------------------------------------------------------------- helpers

    private HttpResponse<String> post(String path, String body, String traceparent) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + path)).timeout(Duration.ofMinutes(3))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (traceparent != null) b.header("traceparent", traceparent);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code GET /traces?function=F&limit=N} (Jaeger JSON), read as {@code thaw flow --daemon} reads it. */
    private List<Trace> traces(String function, int limit) {
        JsonNode body = client.get("/traces?function=" + function + "&limit=" + limit);
        return TraceReader.parse("daemon", Json.write(body)).traces();
    }

    private static List<Trace> select(List<Trace> traces, List<String> ids) {
        List<Trace> out = new ArrayList<>();
        for (String id : ids) {
            out.add(traces.stream().filter(t -> t.traceId().equals(id)).findFirst()
                    .orElseThrow(() -> new AssertionError("the daemon did not return trace " + id)));
        }
        return out;
    }

    private static <T> T only(List<T> list) {
        assertEquals(1, list.size(), list.toString());
        return list.getFirst();
    }

    private static List<Span> invocations(Trace trace, String function) {
        return trace.spans().stream().filter(s -> s.operation().equals(SpanTags.INVOKE_PREFIX + function)).toList();
    }

    private static Span invocation(Trace trace, String function) {
        return only(invocations(trace, function));
    }

    private static Span guestExec(Trace trace, Span invocation) {
        return only(trace.spans().stream()
                .filter(s -> s.operation().equals(SpanTags.GUEST_EXEC) && invocation.spanId().equals(s.parentId())).toList());
    }

    /** Ids of the invocation spans of {@code function} that own a section of the trace's critical path. */
    private static Set<String> invocationsOnPath(Trace trace, FlowReport.TraceSummary summary, String function) {
        Map<String, Span> byId = new HashMap<>();
        trace.spans().forEach(s -> byId.put(s.spanId(), s));
        Set<String> out = new LinkedHashSet<>();
        for (CriticalPathSection section : summary.criticalPath()) {
            Span s = byId.get(section.spanId());
            // Phase and guest_exec spans belong to the invocation span above them.
            while (s != null && !s.operation().startsWith(SpanTags.INVOKE_PREFIX)) s = byId.get(s.parentId());
            if (s != null && s.function().equals(function)) out.add(s.spanId());
        }
        return out;
    }

    /** The functions along the critical path in time order, consecutive repeats collapsed. */
    private static List<String> functionsAlongPath(FlowReport.TraceSummary summary) {
        List<String> out = new ArrayList<>();
        for (CriticalPathSection s : summary.criticalPath()) {
            if (out.isEmpty() || !out.getLast().equals(s.function())) out.add(s.function());
        }
        return out;
    }

    private static Set<String> edges(FlowReport report) {
        Set<String> out = new LinkedHashSet<>();
        report.edges().forEach(e -> {
            assertEquals(1, e.calls(), e.toString());
            out.add(e.caller() + "->" + e.callee());
        });
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        b[0] |= 1; // never all zero (an invalid id)
        return HexFormat.of().formatHex(b);
    }

    record CliRun(int exit, String out, String err) {}

    private static CliRun cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
