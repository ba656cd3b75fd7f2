package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.model.Mode;
import dev.thaw.vm.FakeGuest;
import dev.thaw.vm.FakeLauncher;
import dev.thaw.vm.VmException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The invocation path on fake guests: every mode, async, errors, timeouts, calls between functions. */
class InvokerTest {
    final FakePlatform fake = new FakePlatform();
    final Platform platform = fake.platform;

    @AfterEach
    void close() {
        fake.close();
    }

    static JsonNode event(String json) {
        return Json.parse(json);
    }

    @Test
    void coldBootsAndTimesEveryBootPhase() {
        fake.deploy("hello");
        int bootsBefore = fake.launcher.boots();
        InvocationResult r = platform.invoke("hello", event("{\"x\": 1}"), Mode.COLD);
        assertEquals(bootsBefore + 1, fake.launcher.boots());
        assertEquals("cold", r.coldStart());
        assertEquals(1, r.result().path("echo").path("x").asInt());
        assertEquals("hello", r.result().path("function").asText());
        Timing t = r.timing();
        assertEquals(100.0, t.vmmStart());
        assertEquals(3000.0, t.boot());
        assertEquals(200.0, t.functionLoad());
        assertEquals(5.0, t.guestExec());
        assertNull(t.stateLoad());
        assertEquals(3305.0, t.total(), 0.001);
    }

    @Test
    void everyRestoreModeRestoresAndTimesTheRestorePhases() {
        fake.deploy("hello");
        for (Mode m : new Mode[]{Mode.VANILLA, Mode.CACHED}) {
            int before = fake.launcher.restores();
            InvocationResult r = platform.invoke("hello", event("{}"), m);
            assertEquals(before + 1, fake.launcher.restores(), m.id());
            assertEquals(m.id(), r.coldStart());
            assertEquals(m.id(), r.mode());
            assertEquals(100.0, r.timing().vmmStart());
            assertEquals(20.0, r.timing().stateLoad());
            assertEquals(1.0, r.timing().resume());
            assertNull(r.timing().boot());
            assertNull(r.warnings());
            assertEquals("hello", r.result().path("function").asText(), "the restored guest knows its function from the snapshot");
        }
    }

    @Test
    void reapAndFaasnapWithoutARecordFallBackToVanillaAndSaySo() {
        fake.deploy("hello"); // "record": false
        for (Mode m : new Mode[]{Mode.REAP, Mode.FAASNAP}) {
            InvocationResult r = platform.invoke("hello", event("{}"), m);
            assertEquals("vanilla", r.coldStart(), m.id());
            assertEquals(1, r.warnings().size());
            assertTrue(r.warnings().getFirst().contains("instead of " + m.id()), r.warnings().toString());
        }
    }

    @Test
    void warmReusesTheIdleInstanceAndAWarmMissRestoresQuietly() {
        fake.deploy("hello");
        InvocationResult first = platform.invoke("hello", event("{}"), Mode.WARM);
        assertEquals("vanilla", first.coldStart(), "no record: the function's faasnap falls back to vanilla");
        assertNull(first.warnings(), "a warm miss does not warn about the fallback");
        InvocationResult second = platform.invoke("hello", event("{}"), Mode.WARM);
        assertNull(second.coldStart());
        assertEquals(first.instance(), second.instance());
        assertNull(second.timing().vmmStart());
        assertEquals(1, fake.launcher.restores());
    }

    @Test
    void aWarmMissUsesTheFunctionsOwnStrategy() {
        fake.deploy("v", "{\"name\": \"v\", \"memory_mib\": 128, \"record\": false, \"restore\": \"vanilla\"}");
        assertEquals("vanilla", platform.invoke("v", event("{}"), Mode.WARM).coldStart());
    }

    @Test
    void handlerErrorKeepsTheInstance() {
        fake.deploy("hello");
        String inst = platform.invoke("hello", event("{}"), Mode.WARM).instance();
        ThawException e = assertThrows(ThawException.class, () -> platform.invoke("hello", event("{\"raise\": \"broken\"}"), Mode.WARM));
        assertEquals(ThawException.Kind.HANDLER, e.kind());
        assertEquals("handler_error", e.code());
        assertTrue(e.getMessage().contains("broken"));
        assertTrue(e.details().path("traceback").asText().contains("ValueError"));
        assertEquals(inst, platform.invoke("hello", event("{}"), Mode.WARM).instance(), "the instance survived its handler's exception");
    }

    @Test
    void timeoutAndDeathAreThatCallsAloneAndTheVmIsDiscarded() {
        fake.deploy("hello");
        String inst = platform.invoke("hello", event("{}"), Mode.WARM).instance();
        ThawException timeout = assertThrows(ThawException.class, () -> platform.invoke("hello", event("{\"hang\": true}"), Mode.WARM));
        assertEquals(ThawException.Kind.TIMEOUT, timeout.kind());
        assertEquals("vm_timeout", timeout.code());
        FakeGuest first = fake.launcher.launched().getLast();
        assertTrue(first.closed(), "a timed-out VM is stopped");
        InvocationResult next = platform.invoke("hello", event("{}"), Mode.WARM);
        assertNotEquals(inst, next.instance(), "the next call gets a fresh VM");
        ThawException died = assertThrows(ThawException.class, () -> platform.invoke("hello", event("{\"die\": true}"), Mode.WARM));
        assertEquals(ThawException.Kind.VM_FAILED, died.kind());
        assertTrue(platform.instances().isEmpty(), "a dead VM is never pooled");
        assertEquals(0, fake.platform.instanceManager().reserved()[0], "and its budget is back");
    }

    @Test
    void aFailedLaunchGivesItsBudgetBack() {
        fake.deploy("hello");
        fake.launcher.failNextLaunch(new VmException.Died("QEMU exited (status 1) before connecting its QMP"));
        ThawException e = assertThrows(ThawException.class, () -> platform.invoke("hello", event("{}"), Mode.VANILLA));
        assertEquals(ThawException.Kind.VM_FAILED, e.kind());
        assertEquals(0, fake.platform.instanceManager().reserved()[0]);
        assertEquals(0, fake.platform.instanceManager().reserved()[1]);
    }

    @Test
    void anIdleInstanceThatDiedIsNotReused() {
        fake.deploy("hello");
        String inst = platform.invoke("hello", event("{}"), Mode.WARM).instance();
        fake.launcher.launched().getLast().kill();
        InvocationResult r = platform.invoke("hello", event("{}"), Mode.WARM);
        assertNotEquals(inst, r.instance());
        assertEquals("vanilla", r.coldStart());
    }

    @Test
    void unknownFunctionIsNotFound() {
        ThawException e = assertThrows(ThawException.class, () -> platform.invoke("nope", event("{}"), Mode.WARM));
        assertEquals(ThawException.Kind.NOT_FOUND, e.kind());
    }

    @Test
    void asyncInvocationsRunAndReportTheirOutcome() throws Exception {
        fake.deploy("hello");
        AsyncInvocations.Status queued = platform.invokeAsync("hello", event("{\"tag\": \"later\"}"), Mode.WARM, Call.external(null));
        assertEquals("queued", queued.state());
        AsyncInvocations.Status done = fake.platform.invoker().async().completion(queued.id()).get(10, TimeUnit.SECONDS);
        assertEquals("succeeded", done.state());
        assertEquals("later", done.response().result().path("echo").path("tag").asText());
        assertEquals(done, platform.invocation(queued.id()));

        AsyncInvocations.Status failing = platform.invokeAsync("hello", event("{\"raise\": \"no\"}"), Mode.WARM, Call.external(null));
        AsyncInvocations.Status failed = fake.platform.invoker().async().completion(failing.id()).get(10, TimeUnit.SECONDS);
        assertEquals("failed", failed.state());
        assertEquals(ThawException.Kind.HANDLER, failed.errorKind());
        assertEquals("handler_error", failed.error().path("code").asText());
        assertThrows(ThawException.class, () -> platform.invocation("inv-unknown"));
    }

    @Test
    void asyncResultsExpireAfterTheirTtl() throws Exception {
        fake.deploy("hello");
        AsyncInvocations.Status queued = platform.invokeAsync("hello", event("{}"), Mode.WARM, Call.external(null));
        fake.platform.invoker().async().completion(queued.id()).get(10, TimeUnit.SECONDS);
        fake.ticker.advance(java.time.Duration.ofMinutes(11));
        fake.platform.keeper().tick(fake.ticker.nanoTime());
        assertEquals(ThawException.Kind.NOT_FOUND, assertThrows(ThawException.class, () -> platform.invocation(queued.id())).kind());
    }

    @Test
    void aGuestCallsAnotherFunctionAsAChildInvocation() {
        fake.deploy("caller", "{\"name\": \"caller\", \"record\": false, \"may_call\": [\"callee\"]}");
        fake.deploy("callee");
        InvocationResult r = platform.invoke("caller",
                event("{\"call\": {\"function\": \"callee\", \"event\": {\"n\": 7}}}"), Mode.WARM);
        JsonNode answer = r.result();
        assertTrue(answer.path("ok").asBoolean(), answer.toString());
        assertEquals(7, answer.path("result").path("echo").path("n").asInt());
        assertEquals("callee", answer.path("result").path("function").asText());
        var traces = platform.tracing().store().get(r.traceId());
        assertNotNull(traces);
        assertTrue(traces.spans().size() >= 4, "caller and callee spans are in one trace");
    }

    @Test
    void callChainsDeeperThanTheLimitAreRefused() {
        // Each level holds a concurrency slot of "a" while its callee runs: allow enough of them.
        try (FakePlatform deep = new FakePlatform(new Limits(16, 8192, 8, 4, java.time.Duration.ofSeconds(5)))) {
            chainRefused(deep);
        }
    }

    private static void chainRefused(FakePlatform fake) {
        Platform platform = fake.platform;
        fake.deploy("a", "{\"name\": \"a\", \"record\": false, \"may_call\": [\"a\"]}");
        // Depth limit 4 (FakePlatform): a call nested five deep is refused, and the refusal travels up as a reply.
        String ev = "{}";
        for (int i = 0; i < 5; i++) ev = "{\"call\": {\"function\": \"a\", \"event\": " + ev + "}}";
        InvocationResult r = platform.invoke("a", event(ev), Mode.WARM);
        JsonNode deepest = r.result();
        while (deepest.path("ok").asBoolean() && deepest.path("result").has("ok")) deepest = deepest.path("result");
        assertFalse(deepest.path("ok").asBoolean(), r.result().toString());
        assertEquals("call_depth", deepest.path("error").path("code").asText());
    }

    @Test
    void aCallWithNoRunningParentCountsAsDepthOne() {
        fake.deploy("a", "{\"name\": \"a\", \"record\": false, \"may_call\": [\"a\"]}");
        FunctionSpec a = FunctionSpec.parse("{\"name\": \"a\", \"may_call\": [\"a\"]}");
        JsonNode reply = fake.platform.invoker().serveGuestCall(a, Json.parse(
                "{\"call\": 1, \"function\": \"a\", \"parent\": \"inv-gone\", \"event\": {}}"));
        assertTrue(reply.path("ok").asBoolean());
    }

    @Test
    void aFunctionMayCallOnlyWhatItsFunctionJsonLists() {
        fake.deploy("caller", "{\"name\": \"caller\", \"record\": false, \"may_call\": [\"allowed\"]}");
        fake.deploy("allowed");
        fake.deploy("other");
        JsonNode ok = platform.invoke("caller", event("{\"call\": {\"function\": \"allowed\", \"event\": {}}}"), Mode.WARM).result();
        assertTrue(ok.path("ok").asBoolean(), ok.toString());
        JsonNode refused = platform.invoke("caller", event("{\"call\": {\"function\": \"other\", \"event\": {}}}"), Mode.WARM).result();
        assertFalse(refused.path("ok").asBoolean());
        assertEquals("call_not_allowed", refused.path("error").path("code").asText());
        assertTrue(refused.path("error").path("message").asText().contains("may_call"));
        assertEquals(1, fake.launcher.launched().stream().filter(g -> "other".equals(g.function())).count(),
                "the refused call started no VM of the callee (the one there is, is its deploy's)");
        JsonNode none = platform.invoke("other", event("{\"call\": {\"function\": \"allowed\", \"event\": {}}}"), Mode.WARM).result();
        assertEquals("call_not_allowed", none.path("error").path("code").asText(), "no may_call: no calls at all");
    }

    @Test
    void concurrentRestoresOfOneFunctionAreSeparateVms() throws Exception {
        fake.deploy("hello");
        var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        CompletableFuture<InvocationResult> a = CompletableFuture.supplyAsync(() -> platform.invoke("hello", event("{\"gate\": \"g\"}"), Mode.VANILLA), threads);
        CompletableFuture<InvocationResult> b = CompletableFuture.supplyAsync(() -> platform.invoke("hello", event("{\"gate\": \"g\"}"), Mode.VANILLA), threads);
        fake.launcher.awaitAtGate(2);
        fake.launcher.gate("g").countDown();
        assertNotEquals(a.get(10, TimeUnit.SECONDS).instance(), b.get(10, TimeUnit.SECONDS).instance());
    }

    @Test
    void metricsCountInvocationsColdStartsAndErrors() {
        fake.deploy("hello");
        platform.invoke("hello", event("{}"), Mode.VANILLA);
        assertThrows(ThawException.class, () -> platform.invoke("hello", event("{\"raise\": \"x\"}"), Mode.WARM));
        String text = platform.metrics().render();
        assertTrue(text.contains("thaw_invocations_total{function=\"hello\",mode=\"vanilla\",status=\"ok\"} 1"), text);
        assertTrue(text.contains("thaw_cold_starts_total{function=\"hello\",strategy=\"vanilla\"} 1"), text);
        assertTrue(text.contains("thaw_invocation_errors_total{code=\"handler_error\",function=\"hello\"} 1"), text);
    }

    @Test
    void theFirstCallToARestoredCloneCarriesAFreshSeedAndOnlyThatOne() {
        fake.deploy("hello");
        platform.invoke("hello", event("{}"), Mode.WARM);
        platform.invoke("hello", event("{}"), Mode.WARM);
        var restored = fake.launcher.launched().getLast();
        assertEquals(2, restored.invokes().size());
        String seed = restored.invokes().get(0).path("seed").asText();
        assertEquals(GuestRequests.SEED_BYTES, java.util.Base64.getDecoder().decode(seed).length);
        assertFalse(restored.invokes().get(1).has("seed"), "a warm call does not reseed");

        platform.invoke("hello", event("{}"), Mode.VANILLA);
        String other = fake.launcher.launched().getLast().invokes().get(0).path("seed").asText();
        assertNotEquals(seed, other, "every clone gets its own seed");

        platform.invoke("hello", event("{}"), Mode.COLD);
        assertFalse(fake.launcher.launched().getLast().invokes().get(0).has("seed"), "a booted VM has its own entropy");

        String prewarmed = platform.prewarm("hello", 1).getFirst();
        platform.instances().stream().filter(i -> !i.id().equals(prewarmed)).forEach(i -> platform.stopInstance(i.id()));
        platform.invoke("hello", event("{}"), Mode.WARM);
        var guest = fake.launcher.launched().stream().filter(g -> g.id().equals(prewarmed)).findFirst().orElseThrow();
        assertTrue(guest.invokes().getFirst().has("seed"), "a prewarmed clone is reseeded on its first call");
    }

    @Test
    void callsFromOtherFunctionsQueueApartFromOutsideCallers() throws Exception {
        // Concurrency 1, queue 0: an outside call and a call from another function each get a slot of their own.
        try (FakePlatform f = new FakePlatform(new Limits(8, 8192, 1, 0, java.time.Duration.ZERO))) {
            f.deploy("caller", "{\"name\": \"caller\", \"record\": false, \"may_call\": [\"callee\"]}");
            f.deploy("callee");
            var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            var viaCall = threads.submit(() -> f.platform.invoke("caller",
                    event("{\"call\": {\"function\": \"callee\", \"event\": {\"gate\": \"g\"}}}"), Mode.WARM));
            f.launcher.awaitAtGate(1); // the callee, called by caller, holds its slot in the calls' line
            var outside = threads.submit(() -> f.platform.invoke("callee", event("{}"), Mode.WARM));
            assertEquals("callee", outside.get(10, TimeUnit.SECONDS).result().path("function").asText(),
                    "the outside caller was not starved by the function's calls");
            f.launcher.gate("g").countDown();
            assertTrue(viaCall.get(10, TimeUnit.SECONDS).result().path("ok").asBoolean());
        }
    }

    @Test
    void aGuestsOwnTimingIsBoundedByTheTimeTheCallTook() {
        fake.deploy("hello");
        InvocationResult lying = platform.invoke("hello", event("{\"claim_exec_ms\": 1e9}"), Mode.VANILLA);
        assertEquals(lying.timing().total(), lying.timing().guestExec(), 0.001, "no more than the call took");
        InvocationResult negative = platform.invoke("hello", event("{\"claim_exec_ms\": -50}"), Mode.WARM);
        assertEquals(0.0, negative.timing().guestExec());
    }

    @Test
    void aClonesReseedTimeIsANamedPartOfTheTotalAndBoundedLikeExecMs() {
        fake.deploy("hello");
        fake.launcher.steps(new FakeLauncher.Steps(10, 2, 1, 50, 5, 40));
        InvocationResult r = platform.invoke("hello", event("{\"claim_reseed_ms\": 3, \"claim_exec_ms\": 30}"), Mode.VANILLA);
        assertEquals(3.0, r.timing().reseed());
        assertEquals(r.timing().total(), 10 + 2 + 1 + 3 + 30 + r.timing().hostOverhead(), 0.001);
        assertEquals(7.0, r.timing().hostOverhead(), 0.001, "reseed time is not host overhead");

        InvocationResult lying = platform.invoke("hello", event("{\"claim_reseed_ms\": 1e9}"), Mode.VANILLA);
        assertEquals(0.0, lying.timing().reseed(), 0.001, "no more than the time neither the restore nor the handler took (none here)");
        assertEquals(0.0, platform.invoke("hello", event("{\"claim_reseed_ms\": -5}"), Mode.VANILLA).timing().reseed());
        assertNull(platform.invoke("hello", event("{\"claim_reseed_ms\": \"soon\"}"), Mode.VANILLA).timing().reseed(), "not a number");
        assertNull(platform.invoke("hello", event("{\"claim_reseed_ms\": 3}"), Mode.WARM).timing().reseed(),
                "a warm call carried no seed, so it has no reseed time");
    }

    @Test
    void stepsAreScriptable() {
        fake.deploy("hello");
        fake.launcher.steps(new FakeLauncher.Steps(10, 2, 1, 50, 5, 40));
        InvocationResult r = platform.invoke("hello", event("{}"), Mode.VANILLA);
        assertEquals(10.0, r.timing().vmmStart());
        assertEquals(40.0, r.timing().guestExec());
        assertEquals(0.0, r.timing().hostOverhead(), 0.001);
    }
}
