package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.client.DaemonException;
import dev.thaw.common.Percentiles;
import dev.thaw.memory.PageCache;
import dev.thaw.platform.FunctionSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Runs a {@link Scenario} against a daemon and collects every invocation.
 *
 * <p>Design: the runner only talks to the daemon's API (through {@link Daemon}), so the same code
 * measures an embedded daemon and a remote one, and nothing it reports is measured differently
 * from what a client would see. Each run of a cell is: drop the function's snapshot files from the
 * page cache when the mode calls for a cold cache, then start {@code parallelism} invocations at
 * once from virtual threads released by one latch, and wait for all of them. Latency is the
 * daemon's own {@code timing_ms.total} (so HTTP and JSON overhead on the client side do not blur
 * the comparison between modes); the client-side latency is kept too, in the CSV.
 *
 * <p>Failures are data, not the end of the benchmark: a failed invocation is recorded with its
 * error and left out of the statistics; a mode the daemon does not know (an older daemon) is
 * reported once and skipped for every function; a function that cannot be deployed is skipped.
 * Only losing the daemon or the page-cache control ends the run early, and then what was
 * measured so far is still returned.
 */
public final class BenchRunner {
    /** Something the benchmark planned but did not run, and why. */
    public record Skip(@JsonProperty("what") String what, @JsonProperty("reason") String reason) {}

    /** What a run of a scenario produced. {@code aborted} is null when it ran to the end. */
    public record Outcome(Scenario scenario, Instant started, Instant finished, Map<String, Integer> memoryMib,
                          List<Invocation> invocations, List<BenchResult> results, List<Skip> skipped, String aborted) {}

    private final Daemon daemon;
    private final Path functionsDir;
    private final boolean redeploy;
    private final Consumer<String> progress;

    private final Set<String> unsupportedModes = new HashSet<>();
    private boolean dropEndpoint = true;
    private int done;
    private int planned;

    public BenchRunner(Daemon daemon, Path functionsDir, boolean redeploy, Consumer<String> progress) {
        this.daemon = daemon;
        this.functionsDir = functionsDir;
        this.redeploy = redeploy;
        this.progress = progress;
    }

    /**
     * Reads each function's function.json under the functions directory and checks it has every
     * input the scenario sends it: before any VM starts, so a bad scenario fails in a second.
     */
    public static Map<String, FunctionSpec> loadSpecs(Scenario scenario, Path functionsDir) {
        Map<String, FunctionSpec> specs = new LinkedHashMap<>();
        for (String name : scenario.functions()) {
            Path file = functionsDir.resolve(name).resolve("function.json");
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("function " + name + ": " + file + " does not exist (the benchmark needs it for the function's inputs)");
            }
            try {
                FunctionSpec spec = FunctionSpec.parse(Files.readString(file));
                if (!spec.name().equals(name)) {
                    throw new IllegalArgumentException(file + ": name is \"" + spec.name() + "\" but its directory is " + name);
                }
                specs.put(name, spec);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        for (Scenario.Experiment e : scenario.experiments()) {
            for (String f : e.functions()) {
                for (String input : e.inputs()) {
                    if (specs.get(f).inputs().get(input) == null) {
                        throw new IllegalArgumentException(functionsDir.resolve(f).resolve("function.json") + ": inputs." + input
                                + " is missing, but experiment " + e.name() + " sends the " + input + " input");
                    }
                }
            }
        }
        return specs;
    }

    public Outcome run(Scenario scenario) {
        Instant started = Instant.now();
        Map<String, FunctionSpec> specs = loadSpecs(scenario, functionsDir);
        List<Invocation> invocations = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        Map<String, Integer> memoryMib = new LinkedHashMap<>();
        planned = scenario.plannedRuns();
        done = 0;
        String aborted = null;
        try {
            awaitSnapshotCheck();
            Set<String> deployed = deploy(specs, memoryMib, skipped);
            for (Scenario.Experiment e : scenario.experiments()) {
                progress.accept(String.format(Locale.ROOT, "experiment %s: %d functions × %d inputs × %d modes × parallelism %s × %d runs",
                        e.name(), e.functions().size(), e.inputs().size(), e.modes().size(), e.parallelism(), e.runs()));
                for (String fn : e.functions()) {
                    for (String input : e.inputs()) {
                        JsonNode event = specs.get(fn).inputs().get(input);
                        for (int p : e.parallelism()) {
                            List<String> modes = new ArrayList<>();
                            for (String mode : e.modes()) {
                                if (!deployed.contains(fn) || unsupportedModes.contains(mode)) done += e.runs();
                                else modes.add(mode);
                            }
                            runCells(e, fn, input, modes, p, event, invocations, skipped);
                        }
                    }
                }
            }
        } catch (RuntimeException ex) {
            aborted = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            progress.accept("benchmark stopped early: " + aborted);
        }
        return new Outcome(scenario, started, Instant.now(), memoryMib, invocations, summarise(invocations), skipped, aborted);
    }

    /**
     * Waits (up to two minutes) while the daemon checks the snapshots it found at start-up: that
     * check reads whole memory files, which would disturb the first cold-cache runs.
     */
    private void awaitSnapshotCheck() {
        long deadline = System.nanoTime() + 120_000_000_000L;
        boolean told = false;
        while (!daemon.health().path("snapshots_verified").asBoolean(true) && System.nanoTime() < deadline) {
            if (!told) progress.accept("waiting for the daemon to finish checking its snapshots' checksums");
            told = true;
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    private Set<String> deploy(Map<String, FunctionSpec> specs, Map<String, Integer> memoryMib, List<Skip> skipped) {
        Set<String> ok = new HashSet<>();
        for (FunctionSpec spec : specs.values()) {
            String name = spec.name();
            Optional<JsonNode> info = redeploy ? Optional.empty() : daemon.function(name);
            if (info.isEmpty()) {
                long t0 = System.nanoTime();
                try {
                    info = Optional.of(daemon.deploy(name, functionsDir.resolve(name).toAbsolutePath()));
                } catch (DaemonException f) {
                    skipped.add(new Skip("function " + name, "deploy failed: " + f.getMessage()));
                    progress.accept("cannot deploy " + name + ", skipping it: " + f.getMessage());
                    continue;
                }
                progress.accept(String.format(Locale.ROOT, "deployed %s in %.1f s", name, (System.nanoTime() - t0) / 1e9));
            } else {
                progress.accept("using deployed function " + name);
            }
            memoryMib.put(name, info.get().path("memory_mib").asInt(spec.memoryMib()));
            ok.add(name);
        }
        return ok;
    }

    /**
     * All runs of one function × input × parallelism, in every mode. The restoring modes take
     * turns run by run so that a slow spell of a shared, noisy host lands on every mode alike
     * instead of on whichever mode it happened to meet, and every other run goes through them
     * backwards (vanilla 1, reap 1, faasnap 1, faasnap 2, reap 2, vanilla 2, vanilla 3, …): a
     * host that drifts during a turn then favours no position in the list, and the two modes
     * of a pair sit as close in time as the list puts them, twice in a row. Warm runs come
     * last, in one block, because every cache drop stops the idle instances they need.
     */
    private void runCells(Scenario.Experiment e, String fn, String input, List<String> modes, int p, JsonNode event,
                          List<Invocation> out, List<Skip> skipped) {
        List<String> rotating = modes.stream().filter(m -> !m.equals("warm")).toList();
        for (int run = 1; run <= e.runs(); run++) {
            for (String mode : run % 2 == 1 ? rotating : rotating.reversed()) {
                if (unsupportedModes.contains(mode)) continue; // its remaining runs were counted when it was found out
                runOnce(e, fn, input, mode, p, run, event, out, skipped);
            }
        }
        if (modes.contains("warm") && !unsupportedModes.contains("warm")) runCell(e, fn, input, "warm", p, event, out, skipped);
    }

    /** Run number {@code run} of one cell; false when the daemon turned out not to know the mode. */
    private boolean runOnce(Scenario.Experiment e, String fn, String input, String mode, int p, int run, JsonNode event,
                            List<Invocation> out, List<Skip> skipped) {
        if (e.dropsCacheFor(mode)) dropCache(fn);
        List<Invocation> batch = batch(e.name(), fn, input, mode, p, run, event);
        if (unsupported(mode, batch, skipped, e.runs() - run + 1)) return false;
        out.addAll(batch);
        done++;
        progress.accept(String.format(Locale.ROOT, "[%d/%d] %-12s %-8s %-6s P=%-2d run %d/%d: %s",
                done, planned, fn, mode, input, p, run, e.runs(), describe(batch)));
        return true;
    }

    /** All runs of one function × input × mode × parallelism, one after another. */
    private void runCell(Scenario.Experiment e, String fn, String input, String mode, int p, JsonNode event,
                         List<Invocation> out, List<Skip> skipped) {
        if (mode.equals("warm")) {
            // Start (or find) p idle instances, so the measured runs each find one.
            List<Invocation> warmup = batch(e.name(), fn, input, mode, p, 0, event);
            if (unsupported(mode, warmup, skipped, e.runs())) return;
        }
        for (int run = 1; run <= e.runs(); run++) {
            if (!runOnce(e, fn, input, mode, p, run, event, out, skipped)) return;
        }
    }

    /** When a batch shows the daemon does not know the mode: remember that, report it, and skip. */
    private boolean unsupported(String mode, List<Invocation> batch, List<Skip> skipped, int runsLeft) {
        Optional<String> why = batch.stream().filter(i -> "bad_mode".equals(i.errorCode())).map(Invocation::error).findFirst();
        if (why.isEmpty()) return false;
        unsupportedModes.add(mode);
        String reason = "not supported by this daemon (" + why.get() + ")";
        skipped.add(new Skip("mode " + mode, reason));
        progress.accept("skipping mode " + mode + " for every function: " + reason);
        done += runsLeft;
        return true;
    }

    /** {@code p} invocations started together; returns when all have answered. */
    private List<Invocation> batch(String experiment, String fn, String input, String mode, int p, int run, JsonNode event) {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Invocation>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int slot = 1; slot <= p; slot++) {
                int s = slot;
                futures.add(pool.submit(() -> {
                    go.await();
                    return invoke(experiment, fn, input, mode, p, run, s, event);
                }));
            }
            go.countDown();
            List<Invocation> out = new ArrayList<>();
            for (Future<Invocation> f : futures) out.add(f.get());
            return out;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        } catch (ExecutionException ex) {
            // Only a lost daemon gets here (invoke() turns the daemon's error answers into data).
            throw ex.getCause() instanceof RuntimeException r ? r : new IllegalStateException(ex.getCause());
        }
    }

    private Invocation invoke(String experiment, String fn, String input, String mode, int p, int run, int slot, JsonNode event) {
        long t0 = System.nanoTime();
        try {
            JsonNode answer = daemon.invoke(fn, mode, event);
            return new Invocation(experiment, fn, input, mode, p, run, slot, answer, null, null, (System.nanoTime() - t0) / 1e6);
        } catch (DaemonException f) {
            String code = Daemon.unknownMode(f) ? "bad_mode" : f.code();
            return new Invocation(experiment, fn, input, mode, p, run, slot, null, code, f.getMessage(), (System.nanoTime() - t0) / 1e6);
        }
    }

    /** The progress line's summary of a run: its latency, or the spread of its concurrent invocations, and failures. */
    static String describe(List<Invocation> batch) {
        List<Double> ok = batch.stream().filter(Invocation::ok).map(Invocation::totalMs).toList();
        StringBuilder s = new StringBuilder();
        if (ok.size() == 1 && batch.size() == 1) {
            s.append(String.format(Locale.ROOT, "%9.1f ms", ok.getFirst()));
        } else if (!ok.isEmpty()) {
            Stats st = Stats.of(ok);
            s.append(String.format(Locale.ROOT, "%d invocations, median %.1f ms (min %.1f, max %.1f)", ok.size(), st.median(), st.min(), st.max()));
        }
        long failed = batch.size() - ok.size();
        if (failed > 0) {
            if (!s.isEmpty()) s.append(", ");
            s.append(failed).append(" failed: ").append(batch.stream().filter(i -> !i.ok()).findFirst().orElseThrow().error());
        }
        return s.toString();
    }

    /**
     * Drops the function's snapshot from the page cache. Prefers the daemon's endpoint (which also
     * stops the function's idle instances, whose mappings would keep pages resident); without it,
     * stops those instances itself and drops every file of the snapshot from this host.
     */
    private void dropCache(String fn) {
        if (dropEndpoint) {
            if (daemon.dropCache(fn).isPresent()) return;
            dropEndpoint = false;
            progress.accept("the daemon has no cache/drop endpoint; dropping snapshot files from this host instead");
        }
        for (JsonNode inst : daemon.instances()) {
            if (inst.path("function").asText().equals(fn) && inst.path("state").asText().equals("idle")) {
                daemon.stopInstance(inst.path("id").asText());
            }
        }
        List<Path> files = snapshotFiles(daemon.snapshots(), fn);
        if (files.isEmpty()) throw new IllegalStateException("cannot drop the page cache of " + fn + ": GET /snapshots lists no snapshot for it");
        for (Path f : files) {
            try {
                PageCache.drop(f);
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot drop " + f + " from the page cache: " + ex.getMessage(), ex);
            }
        }
    }

    /** The files of {@code fn}'s snapshot, from the {@code GET /snapshots} list: {@code path} joined with each {@code files[].name}. */
    static List<Path> snapshotFiles(JsonNode snapshots, String fn) {
        List<Path> files = new ArrayList<>();
        for (JsonNode s : snapshots) {
            if (!s.path("function").asText().equals(fn) || !s.path("path").isTextual()) continue;
            Path dir = Path.of(s.path("path").asText());
            for (JsonNode f : s.path("files")) files.add(dir.resolve(f.path("name").asText()));
        }
        return files;
    }

    /** One result per cell, in the order the cells ran, compared with its vanilla and cached twins ({@link Pairing}). */
    static List<BenchResult> summarise(List<Invocation> invocations) {
        Map<List<Object>, List<Invocation>> cells = new LinkedHashMap<>();
        for (Invocation i : invocations) {
            cells.computeIfAbsent(List.of(i.experiment(), i.function(), i.input(), i.mode(), i.parallelism()), k -> new ArrayList<>()).add(i);
        }
        // A cell's twins have the same key with the mode replaced.
        java.util.function.BiFunction<List<Object>, String, List<Invocation>> twin =
                (k, mode) -> cells.get(List.of(k.get(0), k.get(1), k.get(2), mode, k.get(4)));
        List<BenchResult> out = new ArrayList<>();
        cells.forEach((k, v) -> {
            BenchResult r = BenchResult.of(v);
            String mode = (String) k.get(3);
            List<Invocation> vanilla = twin.apply(k, "vanilla"), cached = twin.apply(k, "cached");
            if (!mode.equals("vanilla") && !mode.equals("cached") && vanilla != null && cached != null) {
                r = r.withCached(Pairing.ratio(v, cached), Pairing.gapClosed(v, vanilla, cached));
            }
            if (vanilla != null && !mode.equals("vanilla")) {
                BenchResult.Paired p = Pairing.ratio(v, vanilla);
                if (p != null) r = r.pairedWith(p);
            }
            out.add(r);
        });
        return out;
    }

    /** Run-by-run latency ratios of {@code cell} over {@code vanilla} (each run: the median of its P invocations). */
    static BenchResult.Paired paired(List<Invocation> cell, List<Invocation> vanilla) {
        return Pairing.ratio(cell, vanilla);
    }
}
