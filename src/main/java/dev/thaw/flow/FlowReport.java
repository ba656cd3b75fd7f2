package dev.thaw.flow;

import java.util.List;
import java.util.Map;

/**
 * Everything {@code thaw flow} reports about a set of traces; the renderers (text, JSON, DOT,
 * HTML) only format it. Durations are microseconds; shares and rates are fractions in [0, 1].
 * Percentiles are nearest-rank over the values named in each field's comment.
 *
 * @param functions       the function-level nodes, ranked by total time on critical paths (the bottleneck ranking)
 * @param edges           caller -> callee edges, most calls first
 * @param traces          one entry per trace, in input order
 * @param coldStarts      cold starts whose restore lay on a critical path, largest time on the path first
 * @param recommendations functions to keep warm or restore ahead of their callers, largest expected saving first
 * @param warnings        repaired input: orphans, cycles, duplicate span ids
 */
public record FlowReport(Summary summary, List<FunctionStats> functions, List<EdgeStats> edges,
                         List<TraceSummary> traces, List<ColdStart> coldStarts,
                         List<Recommendation> recommendations, List<String> warnings) {

    /**
     * @param durationP50Us trace duration (first start to the end of the critical path) at p50 over traces
     * @param pathUsTotal   sum over traces of the time covered by critical-path sections
     */
    public record Summary(int traces, int spans, int functions, int edges, AsyncPolicy asyncPolicy,
                          long durationP50Us, long durationP99Us, long durationMaxUs, long pathUsTotal,
                          Shape shape) {}

    /**
     * Shape of the call trees. Depth: invocations on the longest call chain (a lone root is 1).
     * Fan-out: most calls one invocation made. Width: most invocations at one depth of a trace.
     */
    public record Shape(int depthP50, int depthMax, int fanOutP50, int fanOutMax, int widthP50, int widthMax) {}

    /**
     * @param invocations       invocation spans of the function (roots, calls from other functions, {@code invoke …} spans)
     * @param traces            traces with at least one span of the function
     * @param tracesOnPath      traces in which the function owns part of the critical path
     * @param pathUsTotal       critical-path time over all traces
     * @param pathUsP50         critical-path time per trace at p50, over {@code traces}
     * @param pathShareP50      share of the trace's duration on the function's critical-path sections, p50 over {@code traces}
     * @param pathShareOfTotal  {@code pathUsTotal} over the summed durations of all traces
     * @param coldStarts        cold invocations of the function
     * @param coldStartsOnPath  cold invocations whose restore lay (partly) on the critical path
     * @param coldOnPathUsTotal restore time on critical paths, all traces
     */
    public record FunctionStats(int rank, String function, int invocations, int errors, double errorRate,
                                int traces, int tracesOnPath, long pathUsTotal, long pathUsP50, long pathUsP99,
                                double pathShareP50, double pathShareP99, double pathShareOfTotal,
                                int coldStarts, int coldStartsOnPath, long coldOnPathUsTotal) {}

    /**
     * @param calls       invocations of {@code callee} made from {@code caller}
     * @param p50Us       callee invocation span duration at p50 (likewise p90, p99)
     * @param callsOnPath calls whose callee invocation owns part of a critical path
     */
    public record EdgeStats(String caller, String callee, int calls, int errors, double errorRate,
                            long p50Us, long p90Us, long p99Us, int callsOnPath) {}

    /**
     * @param pathUs          time covered by critical-path sections
     * @param gapUs           {@code durationUs - pathUs}: time when no span on the path was open
     * @param pathUsByFunction critical-path time per function
     */
    public record TraceSummary(String traceId, List<String> rootFunctions, long startUs, long endUs,
                               long durationUs, int spans, int depth, int fanOut, int width,
                               long pathUs, long gapUs, Map<String, Long> pathUsByFunction,
                               List<CriticalPathSection> criticalPath) {}

    /**
     * @param restoreUs time the restore took: phase spans, else {@code thaw.coldstart_ms}, else an estimate
     * @param onPathUs  the part of it that lay on the trace's critical path
     * @param source    {@code phases} (restore-phase child spans), {@code tag} (thaw.coldstart_ms) or
     *                  {@code baseline} (duration minus the function's warm p50)
     */
    public record ColdStart(String traceId, String spanId, String function, String strategy,
                            long restoreUs, long onPathUs, String source) {}

    public enum Action { KEEP_WARM, RESTORE_AHEAD }

    /**
     * @param caller             for RESTORE_AHEAD: the caller to restore alongside (its most frequent caller)
     * @param tracesAffected     traces in which a cold start of the function lay on the critical path
     * @param traces             traces with the function
     * @param savingP50Us        estimated saving: cold-start time on the critical path at p50 over the affected traces
     * @param meanSavingPerTraceUs the same summed over affected traces and spread over all traces with the function
     * @param leadP50Us          time from the caller's start to the call, p50 over the cold calls (0 for entry functions)
     */
    public record Recommendation(String function, Action action, String caller, int tracesAffected, int traces,
                                 long savingP50Us, long savingP99Us, long meanSavingPerTraceUs, long leadP50Us,
                                 String reason) {}
}
