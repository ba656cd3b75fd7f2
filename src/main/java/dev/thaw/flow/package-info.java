/**
 * Dependency-flow analysis of traces of functions that call functions ({@code thaw flow}).
 *
 * <p>Library use: read traces with {@link dev.thaw.trace.TraceReader} (Jaeger or Zipkin v2 JSON,
 * detected) or build {@link dev.thaw.trace.Span}/{@link dev.thaw.trace.Trace} records directly,
 * run {@link dev.thaw.flow.FlowAnalysis#analyze(java.util.List)} to get a
 * {@link dev.thaw.flow.FlowReport}, and format it with {@link dev.thaw.flow.TextReport},
 * {@link dev.thaw.flow.JsonReport}, {@link dev.thaw.flow.DotReport} or
 * {@link dev.thaw.flow.HtmlReport}. Tag and phase names the daemon must record are in
 * {@link dev.thaw.trace.SpanTags}.
 *
 * <p>Rules, in one place:
 * <ul>
 * <li>A span's function is its service name; an invocation is a root, a span whose parent runs in
 *     another function, or an {@code invoke <function>} span; other spans (phases, client calls,
 *     internal work) belong to the invocation above them.</li>
 * <li>Critical path: the backwards walk from the trace's end through last-finishing children;
 *     see {@link dev.thaw.flow.CriticalPath} for clipping, async work ({@link dev.thaw.flow.AsyncPolicy}),
 *     ties, orphans and cycles.</li>
 * <li>A function's share of a trace's critical path is its sections' total over the trace's
 *     duration; p50/p99 are nearest-rank over the traces that contain the function.</li>
 * <li>A cold start's time on the critical path is the overlap of its restore (the
 *     {@code vmm_start}, {@code state_load}, {@code prefetch}, {@code resume} child spans; else
 *     {@code thaw.coldstart_ms} from the invocation's start; else its duration minus the function's
 *     warm p50) with the path sections of the invocation and its phases.</li>
 * <li>Recommendation per function with cold starts on critical paths: restore it ahead, when its
 *     most frequent caller is invoked, if callers typically (p50) call it later than its restore
 *     takes; otherwise, and always for entry functions, keep it warm. The estimated saving is its
 *     cold-start time on the critical path, p50 over the traces it affected.</li>
 * <li>Malformed input is an error naming the source and the problem; orphans (parent missing),
 *     duplicate span ids and reference cycles are repaired and reported as warnings.</li>
 * </ul>
 */
package dev.thaw.flow;
