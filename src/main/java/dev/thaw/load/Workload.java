package dev.thaw.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.common.Json;
import dev.thaw.common.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A workload file: where invocations come from, how they map to deployed functions, and how
 * the run plays them (speed, rate scale, restore mode, seed). See docs/load.md for the format.
 *
 * @param speed     time compression: source time runs {@code speed} times faster (2 = twice as fast)
 * @param rateScale multiplies the number of invocations, to fit the load to the machine
 * @param mode      the {@code ?mode=} of every invoke, or null for the daemon's default
 */
record Workload(String name, Source source, Mapping mapping, String mode, double speed, double rateScale, long seed) {

    static final long DEFAULT_SEED = 42;
    /** The daemon's invocation modes, the values {@code mode} may take (docs/load.md). */
    static final String[] MODES = {"cold", "warm", "vanilla", "cached", "reap", "faasnap"};

    Workload withOverrides(Double speed, Double rateScale, String mode, Long seed) {
        return new Workload(name, source, mapping, mode != null ? mode : this.mode,
                speed != null ? speed : this.speed, rateScale != null ? rateScale : this.rateScale,
                seed != null ? seed : this.seed);
    }

    Schedule schedule() {
        return ScheduleBuilder.build(source.generate(rateScale, seed), mapping, speed);
    }

    /** The self-test workload: one function with a fixed empty event at {@code rate} per second. */
    static Workload selfTest(double rate, Duration duration, SyntheticSource.Process process) {
        var fn = new SyntheticSource.Fn("selftest", rate, process, 0, 0, "{}");
        var source = new SyntheticSource(Durations.seconds(duration), List.of(fn), List.of());
        return new Workload("self-test", source, new Mapping(Mapping.Kind.DIRECT, null, Mapping.NO_LIMIT,
                Mapping.NO_LIMIT, List.of()), null, 1.0, 1.0, DEFAULT_SEED);
    }

    static Workload read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new WorkloadException(file + ": no such file");
        } catch (IOException e) {
            throw new WorkloadException(file + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new WorkloadException(file + ": " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        Spec spec = new Spec(file.toString(), root)
                .allow("name", "description", "seed", "speed", "rate_scale", "mode", "source", "mapping");
        String name = spec.text("name", file.getFileName().toString().replaceFirst("\\.json$", ""));
        String mode = spec.has("mode") ? spec.choice("mode", null, MODES) : null;
        double speed = spec.number("speed", 1.0, 1e-6, 1e6);
        double rateScale = spec.number("rate_scale", 1.0, 0, 1e6);
        long seed = spec.longValue("seed", DEFAULT_SEED);
        Source source = source(spec.object("source"), base);
        Mapping mapping = spec.has("mapping") ? mapping(spec.object("mapping")) : Mapping.spin();
        return new Workload(name, source, mapping, mode, speed, rateScale, seed);
    }

    private static Source source(Spec s, Path base) {
        String type = s.choice("type", null, "azure2019", "azure2021", "synthetic");
        return switch (type) {
            case "azure2019" -> {
                s.allow("type", "dir", "invocations", "durations", "memory", "start_minute", "minutes", "functions", "arrivals");
                Path dir = s.has("dir") ? base.resolve(s.text("dir", null)) : base;
                Path inv = dir.resolve(s.text("invocations", "invocations.csv"));
                Path dur = dir.resolve(s.text("durations", "durations.csv"));
                Path mem = dir.resolve(s.text("memory", "memory.csv"));
                if (!s.has("memory") && !Files.exists(mem)) {
                    mem = null;
                }
                Arrivals.Kind arrivals;
                try {
                    arrivals = Arrivals.Kind.parse(s.text("arrivals", "exponential"));
                } catch (IllegalArgumentException e) {
                    throw s.error("arrivals", e.getMessage());
                }
                yield new Azure2019Source(inv, dur, mem, s.integer("start_minute", 0, 0, 1_000_000),
                        s.integer("minutes", 0, 0, 1_000_000), s.integer("functions", 0, 0, Integer.MAX_VALUE), arrivals);
            }
            case "azure2021" -> {
                s.allow("type", "file", "start", "duration", "functions", "memory_mib");
                yield new Azure2021Source(base.resolve(s.requiredText("file")),
                        Durations.seconds(s.duration("start", Duration.ZERO)),
                        Durations.seconds(s.duration("duration", Duration.ZERO)),
                        s.integer("functions", 0, 0, Integer.MAX_VALUE), s.integer("memory_mib", 0, 0, 1 << 20));
            }
            default -> {
                s.allow("type", "duration", "functions", "bursts");
                double duration = Durations.seconds(s.requiredDuration("duration"));
                if (duration <= 0) {
                    throw s.error("duration", "must be positive");
                }
                List<SyntheticSource.Fn> fns = new ArrayList<>();
                for (Spec f : s.objects("functions")) {
                    f.allow("name", "rate", "arrival", "duration_ms", "memory_mib", "event");
                    String fname = f.requiredText("name");
                    if (fns.stream().anyMatch(x -> x.name().equals(fname))) {
                        throw f.error("name", "'" + fname + "' appears twice");
                    }
                    String event = f.json("event");
                    if (event != null && !f.node.get("event").isObject()) {
                        throw f.error("event", "must be a JSON object, got " + StrictJson.shown(f.node.get("event")));
                    }
                    fns.add(new SyntheticSource.Fn(fname, f.number("rate", Double.NaN, 0, 1e7),
                            SyntheticSource.Process.parse(f.choice("arrival", "poisson", "poisson", "constant")),
                            f.integer("duration_ms", 0, 0, Integer.MAX_VALUE), f.integer("memory_mib", 0, 0, 1 << 20), event));
                    if (Double.isNaN(fns.getLast().rate())) {
                        throw f.error("rate", "is required (invocations per second)");
                    }
                }
                if (fns.isEmpty()) {
                    throw s.error("functions", "needs at least one function");
                }
                List<SyntheticSource.Burst> bursts = new ArrayList<>();
                for (Spec b : s.objects("bursts")) {
                    b.allow("start", "duration", "multiplier", "functions");
                    List<String> targets = b.strings("functions");
                    for (String t : targets) {
                        if (fns.stream().noneMatch(x -> x.name().equals(t))) {
                            throw b.error("functions", "no function named '" + t + "'");
                        }
                    }
                    bursts.add(new SyntheticSource.Burst(Durations.seconds(b.requiredDuration("start")),
                            Durations.seconds(b.requiredDuration("duration")), b.number("multiplier", Double.NaN, 0, 1e6),
                            targets));
                    if (Double.isNaN(bursts.getLast().multiplier())) {
                        throw b.error("multiplier", "is required");
                    }
                }
                yield new SyntheticSource(duration, fns, bursts);
            }
        };
    }

    private static Mapping mapping(Spec m) {
        String type = m.choice("type", "spin", "spin", "classes", "direct");
        return switch (type) {
            case "spin" -> {
                m.allow("type", "function", "max_duration_ms", "max_memory_mib");
                yield new Mapping(Mapping.Kind.SPIN, m.text("function", "spin"),
                        m.integer("max_duration_ms", Mapping.NO_LIMIT, 0, Integer.MAX_VALUE),
                        m.integer("max_memory_mib", Mapping.NO_LIMIT, 0, Integer.MAX_VALUE), List.of());
            }
            case "direct" -> {
                m.allow("type", "max_duration_ms", "max_memory_mib");
                yield new Mapping(Mapping.Kind.DIRECT, null,
                        m.integer("max_duration_ms", Mapping.NO_LIMIT, 0, Integer.MAX_VALUE),
                        m.integer("max_memory_mib", Mapping.NO_LIMIT, 0, Integer.MAX_VALUE), List.of());
            }
            default -> {
                m.allow("type", "classes");
                List<Mapping.DurationClass> classes = new ArrayList<>();
                List<Spec> specs = m.objects("classes");
                if (specs.isEmpty()) {
                    throw m.error("classes", "needs at least one class");
                }
                for (int i = 0; i < specs.size(); i++) {
                    Spec c = specs.get(i).allow("max_duration_ms", "function", "event");
                    boolean last = i == specs.size() - 1;
                    int max = c.integer("max_duration_ms", -1, 0, Integer.MAX_VALUE);
                    if (max < 0 && !last) {
                        throw c.error("max_duration_ms", "is required on every class but the last");
                    }
                    if (!classes.isEmpty() && max >= 0 && max <= classes.getLast().maxDurationMs()) {
                        throw c.error("max_duration_ms", "must be larger than the previous class's");
                    }
                    String event = c.json("event");
                    if (event != null && !c.node.get("event").isObject()) {
                        throw c.error("event", "must be a JSON object, got " + StrictJson.shown(c.node.get("event")));
                    }
                    classes.add(new Mapping.DurationClass(last ? -1 : max, c.requiredText("function"), event));
                }
                yield new Mapping(Mapping.Kind.CLASSES, null, Mapping.NO_LIMIT, Mapping.NO_LIMIT, classes);
            }
        };
    }
}
