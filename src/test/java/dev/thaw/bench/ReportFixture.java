package dev.thaw.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A report with every kind of data the charts draw: two functions, six modes, a parallelism sweep, memory counters. */
final class ReportFixture {
    private ReportFixture() {}

    static List<Invocation> invocations() {
        List<Invocation> out = new ArrayList<>();
        Map<String, Double> base = new LinkedHashMap<>();
        base.put("cold", 2400.0);
        base.put("vanilla", 310.0);
        base.put("cached", 95.0);
        base.put("reap", 140.0);
        base.put("faasnap", 120.0);
        base.put("warm", 4.0);
        for (String fn : List.of("hello", "json")) {
            double scale = fn.equals("json") ? 1.5 : 1;
            base.forEach((mode, ms) -> {
                for (int run = 1; run <= 3; run++) {
                    var a = mode.equals("warm") ? Answers.warm(ms * scale + run)
                            : Answers.restore(mode, ms * scale + run, (long) (ms / 2), (long) (ms * 40_000), 3000 + run, 2000 + run);
                    out.add(new Invocation("modes", fn, "test", mode, 1, run, 1, a, null, null, ms + 2));
                }
            });
        }
        for (String mode : List.of("vanilla", "faasnap")) {
            for (int p : List.of(1, 2, 4, 8)) {
                for (int slot = 1; slot <= p; slot++) {
                    double ms = (mode.equals("vanilla") ? 300 : 120) * (1 + 0.4 * Math.log(p) / Math.log(2)) + slot;
                    out.add(new Invocation("concurrency", "hello", "test", mode, p, 1, slot,
                            Answers.restore(mode, ms, 100, 1 << 20, 3000, 2000), null, null, ms + 2));
                }
            }
        }
        return out;
    }

    static BenchReport report() {
        List<Invocation> inv = invocations();
        Map<String, Integer> mem = new LinkedHashMap<>();
        mem.put("hello", 256);
        mem.put("json", 256);
        BenchRunner.Outcome o = new BenchRunner.Outcome(Scenario.paper(List.of("hello", "json"), 3, "hello"),
                Instant.parse("2025-01-01T10:00:00Z"), Instant.parse("2025-01-01T10:05:00Z"), mem, inv,
                BenchRunner.summarise(inv), List.of(new BenchRunner.Skip("mode x", "not supported")), null);
        return BenchReport.of(o, "embedded", new HostReport("tcg", 2, 8192, "6.1.0", "drop"), new ReadAhead.Setting("/sys/x", 128, 8192));
    }
}
