package dev.thaw.bench;

import dev.thaw.common.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class BenchRunnerTest {
    @TempDir
    Path dir;
    Path functions;
    Path snapshots;
    final List<String> progress = new ArrayList<>();

    @BeforeEach
    void functionsAndSnapshots() throws IOException {
        functions = dir.resolve("functions");
        snapshots = dir.resolve("data");
        fn("hello", "{\"record\": {\"name\": \"r\"}, \"test\": {\"name\": \"t\"}}");
        fn("json", "{\"record\": {\"size\": 1}, \"test\": {\"size\": 2}}");
        fn("failing", "{\"test\": {\"fail\": true}}");
        for (String f : List.of("hello", "json")) {
            Files.createDirectories(snapshots.resolve(f));
            Files.write(snapshots.resolve(f).resolve("memory"), new byte[8192]);
        }
    }

    private void fn(String name, String inputs) throws IOException {
        Files.createDirectories(functions.resolve(name));
        Files.writeString(functions.resolve(name).resolve("function.json"),
                "{\"name\": \"" + name + "\", \"runtime\": \"python3\", \"memory_mib\": 256, \"inputs\": " + inputs + "}");
    }

    private BenchRunner.Outcome run(FakeDaemon d, String scenario) {
        return new BenchRunner(d, functions, false, progress::add).run(Scenario.parse(scenario, "t.json", "t"));
    }

    @Test
    void deploysOnlyMissingFunctionsAndSendsTheChosenInput() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        d.deployed.add("hello");
        BenchRunner.Outcome o = run(d, """
                {"functions": ["hello", "json"], "modes": ["vanilla"], "runs": 1, "input": "record"}""");
        assertEquals(0, d.count("deploy hello"));
        assertEquals(1, d.count("deploy json"));
        assertTrue(d.calls.contains("invoke hello vanilla {\"name\":\"r\"}"), d.calls.toString());
        assertTrue(d.calls.contains("invoke json vanilla {\"size\":1}"), d.calls.toString());
        assertEquals(512, o.memoryMib().get("hello")); // from the daemon
        assertEquals(256, o.memoryMib().get("json"));
        assertNull(o.aborted());
    }

    @Test
    void dropsTheCacheBeforeEachColdCacheRunButNeverForWarmOrCached() {
        FakeDaemon d = new FakeDaemon(Set.of("cold", "vanilla", "cached", "warm"), true, snapshots);
        run(d, """
                {"functions": ["hello"], "modes": ["cold", "vanilla", "cached", "warm"], "runs": 3}""");
        assertEquals(6, d.count("drop hello"), d.calls.toString()); // 3 cold + 3 vanilla runs
        List<String> seq = d.calls.stream().filter(c -> c.startsWith("drop") || c.startsWith("invoke")).toList();
        for (int i = 0; i < seq.size(); i++) {
            String c = seq.get(i);
            if (c.startsWith("invoke hello cold") || c.startsWith("invoke hello vanilla")) assertEquals("drop hello", seq.get(i - 1), "run " + i);
            if (c.startsWith("invoke hello cached") || c.startsWith("invoke hello warm")) assertFalse(seq.get(i - 1).startsWith("drop"), "run " + i);
        }
        Scenario.Experiment noDrop = Scenario.parse("{\"functions\": [\"hello\"], \"modes\": [\"vanilla\"], \"drop_cache\": false}", "t", "t").experiments().getFirst();
        assertFalse(noDrop.dropsCacheFor("vanilla"));
    }

    @Test
    void withoutTheDropEndpointStopsTheFunctionsIdleInstancesAndDropsItsSnapshotFilesHere() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), false, snapshots);
        d.instances.addObject().put("id", "i-1").put("function", "hello").put("state", "idle");
        d.instances.addObject().put("id", "i-2").put("function", "hello").put("state", "busy");
        d.instances.addObject().put("id", "i-3").put("function", "json").put("state", "idle");
        run(d, """
                {"functions": ["hello"], "modes": ["vanilla"], "runs": 2}""");
        assertEquals(1, d.count("drop hello"), "the endpoint is tried once, then the fallback is used");
        assertEquals(2, d.count("stop i-1"));
        assertEquals(0, d.count("stop i-2"), "busy instances are not ours to stop");
        assertEquals(0, d.count("stop i-3"), "other functions' instances stay");
        assertEquals(2, d.count("snapshots"));
        assertTrue(progress.stream().anyMatch(l -> l.contains("no cache/drop endpoint")));
        assertEquals(List.of(snapshots.resolve("hello/memory")), BenchRunner.snapshotFiles(d.snapshots(), "hello"));
    }

    @Test
    void aModeTheDaemonDoesNotKnowIsReportedOnceAndSkippedForEveryFunction() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla", "warm"), true, snapshots);
        BenchRunner.Outcome o = run(d, """
                {"functions": ["hello", "json"], "modes": ["vanilla", "reap", "warm"], "runs": 2}""");
        assertEquals(1, d.count("invoke hello reap"));
        assertEquals(0, d.count("invoke json reap"));
        assertEquals(List.of("vanilla", "warm", "vanilla", "warm"), o.results().stream().map(BenchResult::mode).toList());
        assertEquals(1, o.skipped().size());
        assertEquals("mode reap", o.skipped().getFirst().what());
        assertTrue(o.skipped().getFirst().reason().startsWith("not supported by this daemon"), o.skipped().getFirst().reason());
        assertTrue(o.invocations().stream().noneMatch(i -> i.mode().equals("reap")));
        assertNull(o.aborted());
        // the counter still reaches the planned total
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("[12/12]")), progress.toString());
    }

    @Test
    void pairedComparisonDividesRunByRunAndCountsTheFasterRuns() {
        List<Invocation> vanilla = List.of(timed("vanilla", 1, 100), timed("vanilla", 2, 200), timed("vanilla", 3, 100));
        List<Invocation> reap = List.of(timed("reap", 1, 90), timed("reap", 2, 220), timed("reap", 3, 50));
        BenchResult.Paired p = BenchRunner.paired(reap, vanilla); // ratios 0.9, 1.1, 0.5
        assertEquals(0.9, p.medianRatio(), 1e-9);
        assertEquals(2, p.runsFaster());
        assertEquals(3, p.runs());
        List<BenchResult> results = BenchRunner.summarise(
                java.util.stream.Stream.concat(vanilla.stream(), reap.stream()).toList());
        assertNull(results.get(0).vsVanilla(), "vanilla is not compared with itself");
        assertEquals(p, results.get(1).vsVanilla());
    }

    @Test
    void cachedTwinsGiveTheRatioToCachedAndTheShareOfTheGapClosed() {
        List<Invocation> vanilla = List.of(timed("vanilla", 1, 100), timed("vanilla", 2, 200), timed("vanilla", 3, 100));
        List<Invocation> cached = List.of(timed("cached", 1, 60), timed("cached", 2, 100), timed("cached", 3, 80));
        List<Invocation> faasnap = List.of(timed("faasnap", 1, 64), timed("faasnap", 2, 150), timed("faasnap", 3, 80));
        List<BenchResult> results = BenchRunner.summarise(java.util.stream.Stream.of(vanilla, cached, faasnap).flatMap(List::stream).toList());
        BenchResult f = results.get(2);
        assertEquals(new BenchResult.Paired(64.0 / 60, 0, 3), f.vsCached()); // ratios 64/60, 1.5, 1.0: none below 1
        assertEquals(0.9, f.gapClosed().medianShare(), 1e-9); // shares 0.9, 0.5, 1.0
        assertEquals(0.4, f.gapClosed().medianGap(), 1e-9); // gaps 0.4, 0.5, 0.2
        assertNull(results.get(1).vsCached(), "cached is not compared with itself");
        assertNull(results.get(1).gapClosed());
    }

    @Test
    void nestedMemoryNumbersAreSummarisedAsParentDotField() {
        Invocation i = new Invocation("e", "hello", "test", "uffd", 1, 1, 1, Json.parse("""
                {"timing_ms": {"total": 5}, "memory": {"major_faults": 3, "uffd": {"faults": 10, "service_p99_us": 250.5},
                 "working_set_pages_by_method": {"uffd": 1500, "pagemap": 7000}, "working_set_method": "uffd"}}"""), null, null, 5);
        BenchResult r = BenchResult.of(List.of(i));
        assertEquals(250.5, r.memoryMedian("uffd.service_p99_us"));
        assertEquals(1500, r.memoryMedian("working_set_pages_by_method.uffd"));
        assertEquals(3, r.memoryMedian("major_faults"));
        assertTrue(Double.isNaN(r.memoryMedian("working_set_method")));
    }

    private static Invocation timed(String mode, int run, double ms) {
        return new Invocation("e", "hello", "test", mode, 1, run, 1,
                Json.parse("{\"timing_ms\": {\"total\": " + ms + "}}"), null, null, ms);
    }

    @Test
    void runsWaitUntilTheDaemonHasCheckedItsSnapshots() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        d.healthChecksBeforeVerified = 2;
        run(d, """
                {"functions": ["hello"], "modes": ["vanilla"], "runs": 1}""");
        assertEquals(3, d.count("health"));
        assertEquals(List.of("health", "health", "health"), d.calls.subList(0, 3), "nothing before the check is over");
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("waiting for the daemon")), progress.toString());
    }

    @Test
    void restoringModesTakeTurnsRunByRunBackwardsEveryOtherRunAndWarmRunsComeLast() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla", "faasnap", "reap", "warm"), true, snapshots);
        BenchRunner.Outcome o = run(d, """
                {"functions": ["hello"], "modes": ["warm", "vanilla", "reap", "faasnap"], "runs": 3}""");
        assertEquals(List.of("vanilla 1", "reap 1", "faasnap 1", "faasnap 2", "reap 2", "vanilla 2",
                        "vanilla 3", "reap 3", "faasnap 3", "warm 1", "warm 2", "warm 3"),
                o.invocations().stream().map(i -> i.mode() + " " + i.run()).toList());
    }

    @Test
    void parallelismStartsPInvocationsAtOnceAndSummarisesAllOfThem() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        BenchRunner.Outcome o = run(d, """
                {"functions": ["hello"], "modes": ["vanilla"], "runs": 2, "parallelism": [1, 4]}""");
        assertEquals(4, d.maxRunning.get(), "four invocations in flight together");
        assertEquals(2 + 8, o.invocations().size());
        assertEquals(4, d.count("drop hello"), "one drop per run, not per invocation");
        BenchResult p4 = o.results().get(1);
        assertEquals(4, p4.parallelism());
        assertEquals(2, p4.runs());
        assertEquals(8, p4.invocations());
        assertEquals(Set.of(1, 2, 3, 4), Set.copyOf(o.invocations().stream().filter(i -> i.parallelism() == 4).map(Invocation::slot).toList()));
        assertTrue(progress.stream().anyMatch(l -> l.contains("P=4 ") && l.contains("4 invocations, median")), progress.toString());
    }

    @Test
    void warmRunsStartWithUnrecordedWarmUpsOnePerConcurrentInvocation() {
        FakeDaemon d = new FakeDaemon(Set.of("warm"), true, snapshots);
        BenchRunner.Outcome o = run(d, """
                {"functions": ["hello"], "modes": ["warm"], "runs": 3, "parallelism": 2}""");
        assertEquals(2 + 3 * 2, d.count("invoke hello warm"));
        assertEquals(6, o.invocations().size());
        assertEquals(0, d.count("drop"));
    }

    @Test
    void failedInvocationsAndUndeployableFunctionsAreRecordedNotFatal() throws IOException {
        fn("broken", "{\"test\": {}}");
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        BenchRunner.Outcome o = run(d, """
                {"functions": ["broken", "failing", "hello"], "modes": ["vanilla"], "runs": 2}""");
        assertEquals(List.of("failing", "hello"), o.results().stream().map(BenchResult::function).toList());
        BenchResult failing = o.results().getFirst();
        assertEquals(0, failing.invocations());
        assertEquals(2, failing.errors());
        assertEquals("handler_error", o.invocations().getFirst().errorCode());
        assertEquals("function broken", o.skipped().getFirst().what());
        assertEquals(0, d.count("invoke broken"));
        assertNull(o.aborted());
    }

    @Test
    void losingTheDaemonStopsEarlyAndKeepsWhatWasMeasured() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        d.dieAfter = 3;
        BenchRunner.Outcome o = run(d, """
                {"functions": ["hello"], "modes": ["vanilla"], "runs": 5}""");
        assertEquals("cannot reach the daemon", o.aborted());
        assertEquals(3, o.invocations().size());
        assertEquals(3, o.results().getFirst().invocations());
    }

    @Test
    void missingFunctionDirectoriesAndInputsFailBeforeAnythingRuns() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        String noDir = assertThrows(IllegalArgumentException.class, () -> run(d, """
                {"functions": ["pagerank"], "modes": ["vanilla"]}""")).getMessage();
        assertTrue(noDir.startsWith("function pagerank: " + functions.resolve("pagerank/function.json") + " does not exist"), noDir);
        String noInput = assertThrows(IllegalArgumentException.class, () -> run(d, """
                {"functions": ["failing"], "modes": ["vanilla"], "input": "record"}""")).getMessage();
        assertEquals(functions.resolve("failing/function.json") + ": inputs.record is missing, but experiment t sends the record input", noInput);
        assertTrue(d.calls.isEmpty());
    }

    @Test
    void progressLineShowsCounterCellAndLatency() {
        FakeDaemon d = new FakeDaemon(Set.of("vanilla"), true, snapshots);
        run(d, """
                {"functions": ["hello"], "modes": ["vanilla"], "runs": 2}""");
        assertTrue(progress.contains("[1/2] hello        vanilla  test   P=1  run 1/2:     100.0 ms"), progress.toString());
        assertEquals("1 failed: boom", BenchRunner.describe(List.of(Answers.failed("vanilla", 1, 1, 1, "x", "boom"))));
        assertEquals("2 invocations, median 100.0 ms (min 100.0, max 200.0), 1 failed: boom", BenchRunner.describe(List.of(
                Answers.ok("vanilla", 3, 1, 1, Answers.restore("vanilla", 100, 1, 1, 1, 1)),
                Answers.ok("vanilla", 3, 1, 2, Answers.restore("vanilla", 200, 1, 1, 1, 1)),
                Answers.failed("vanilla", 3, 1, 3, "x", "boom"))));
        assertNotNull(Json.object());
    }
}
