package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.client.DaemonClient;
import dev.thaw.common.Json;
import dev.thaw.common.Percentiles;
import dev.thaw.platform.FunctionBundle;
import dev.thaw.platform.FunctionSpec;
import dev.thaw.platform.Platform;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The demo: deploy functions, then invoke each one {@code cold}, {@code vanilla} (snapshot files
 * dropped from the page cache before every run, so each restore reads from disk) and {@code warm},
 * through the real HTTP API, and summarise the medians.
 */
public final class Demo {
    public static final List<String> MODES = List.of("cold", "vanilla", "warm");
    /** Every phase but FaaSnap's concurrent prefetch (the demo runs no faasnap). */
    public static final List<String> PHASES = java.util.Arrays.stream(dev.thaw.model.Phase.values())
            .filter(p -> p != dev.thaw.model.Phase.PREFETCH).map(dev.thaw.model.Phase::id).toList();

    public record Report(@JsonProperty("host") HostReport host, @JsonProperty("results") List<ModeResult> results) {}

    private final Platform platform;
    private final DaemonClient client;
    private final Consumer<String> progress;

    public Demo(Platform platform, DaemonClient client, Consumer<String> progress) {
        this.platform = platform;
        this.client = client;
        this.progress = progress;
    }

    public Report run(List<Path> functionDirs, int runs, Path dataDir) {
        List<ModeResult> results = new ArrayList<>();
        for (Path dir : functionDirs) {
            String name = dir.getFileName().toString();
            JsonNode info = deployIfChanged(name, dir);
            JsonNode event = info.path("snapshot").isMissingNode() ? Json.object() : testInput(dir);
            for (String mode : MODES) {
                if (mode.equals("warm")) client.invoke(name, "warm", event); // make sure an instance is running
                List<JsonNode> responses = new ArrayList<>();
                for (int i = 1; i <= runs; i++) {
                    if (mode.equals("vanilla")) platform.dropPageCache(name);
                    JsonNode r = client.invoke(name, mode, event);
                    responses.add(r);
                    progress.accept(String.format("  %-8s %-8s run %d/%d: %8.1f ms", name, mode, i, runs, r.path("timing_ms").path("total").asDouble()));
                }
                results.add(ModeResult.of(name, mode, responses));
            }
        }
        return new Report(HostReport.of(platform.accel().name().toLowerCase(Locale.ROOT), platform.hugePageAdvice().id(), dataDir), results);
    }

    /** Deploys unless the same code is already deployed with a snapshot of the current guest image. */
    private JsonNode deployIfChanged(String name, Path dir) {
        JsonNode deployed = client.function(name).orElse(null);
        if (deployed != null && deployed.path("code_sha256").asText().equals(FunctionBundle.fromDirectory(dir).hash())
                && deployed.path("snapshot").path("imageKey").asText().equals(platform.image().key())) {
            progress.accept("using the deployed snapshot of " + name + " (same code, same guest image)");
            return deployed;
        }
        long t0 = System.nanoTime();
        JsonNode info = client.deploy(name, dir);
        progress.accept(String.format("deployed %s in %.1f s (boot, warm-up, snapshot, working-set record; %d MiB guest)", name,
                (System.nanoTime() - t0) / 1e9, info.path("memory_mib").asInt()));
        return info;
    }

    private static JsonNode testInput(Path dir) {
        try {
            Path file = dir.resolve("function.json");
            JsonNode test = FunctionSpec.parse(Files.readString(file), file.toString()).inputs().path("test");
            return test.isObject() ? test : Json.object();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Prints the results as a table: total latency and the median of each phase. */
    public static void printTable(Report report, PrintStream out) {
        HostReport h = report.host();
        out.printf("host: accel=%s cpus=%d read_ahead_kb=%d vmm_thp_advice=%s kernel=%s%n%n", h.accel(), h.cpus(), h.readAheadKb(), h.vmmThpAdvice(), h.kernel());
        StringBuilder head = new StringBuilder(String.format("%-10s %-8s %4s %10s %9s %9s", "function", "mode", "runs", "median ms", "min", "max"));
        for (String p : PHASES) head.append(String.format(" %13s", p));
        out.println(head);
        out.println("-".repeat(head.length()));
        for (ModeResult r : report.results()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-10s %-8s %4d %10.1f %9.1f %9.1f",
                    r.function(), r.mode(), r.runs(), r.totalMs().median(), r.totalMs().min(), r.totalMs().max()));
            for (String p : PHASES) {
                Double v = r.phasesMs().get(p);
                row.append(v == null ? String.format(" %13s", "-") : String.format(Locale.ROOT, " %13.1f", v));
            }
            out.println(row);
        }
        out.println();
        out.println("phases are medians in ms; '-' = the phase does not occur in that mode");
        out.println(Percentiles.NOTE);
    }
}
