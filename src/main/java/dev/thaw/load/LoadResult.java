package dev.thaw.load;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.common.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * What a {@link LoadSession} run measured, in the forms {@code thaw load} writes: the summary
 * table, the JSON report and the per-invocation CSV (see docs/load.md for all three).
 */
public final class LoadResult {
    private final Report report;
    private final ObjectNode workload;

    LoadResult(Report report, ObjectNode workload) {
        this.report = report;
        this.workload = workload;
    }

    /** The summary table: totals and per function, latency and schedule lag percentiles. */
    public void printTable(PrintStream out) {
        report.printTable(out);
    }

    /** The report as pretty-printed JSON: the workload, the summary, per function and per minute. */
    public String json() {
        return Json.pretty(report.toJson(workload));
    }

    /** Writes one CSV row per invocation (the instance column is filled only with {@code keepInstances}). */
    public void writeCsv(Path file) throws IOException {
        report.writeCsv(file);
    }

    /** Whether every scheduled invocation ended exactly once; a run that is not balanced failed. */
    public boolean balanced() {
        return report.balanced();
    }
}
