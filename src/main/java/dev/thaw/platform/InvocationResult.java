package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The answer to one invocation.
 *
 * @param coldStart how the instance was obtained when it was not already running
 *                  ({@code cold}, {@code vanilla}, …), or null for a warm hit
 * @param dispatch  how the call got its instance: {@code idle} (one was idle), {@code queued} (it
 *                  waited for a busy one), {@code restored} (a new one was restored for it); null for {@code cold}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InvocationResult(
        @JsonProperty("invocation_id") String invocationId,
        @JsonProperty("function") String function,
        @JsonProperty("result") JsonNode result,
        @JsonProperty("instance") String instance,
        @JsonProperty("mode") String mode,
        @JsonProperty("cold_start") String coldStart,
        @JsonProperty("dispatch") String dispatch,
        @JsonProperty("timing_ms") Timing timing,
        @JsonProperty("memory") MemoryStats memory,
        @JsonProperty("warnings") java.util.List<String> warnings,
        @JsonProperty("trace_id") String traceId,
        @JsonIgnore String traceparent) {

    /**
     * What the VMM process read for this invocation: its major faults and the bytes it read from
     * disk (the reads on the critical path; a prefetcher's reads are not the VMM's), and the
     * recorded working-set and loading-set sizes of the snapshot, when there is a record: the
     * method of the record restores use and the working-set size each method recorded.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MemoryStats(@JsonProperty("major_faults") long majorFaults,
                              @JsonProperty("disk_read_bytes") long diskReadBytes,
                              @JsonProperty("working_set_pages") Long workingSetPages,
                              @JsonProperty("loading_set_pages") Long loadingSetPages,
                              @JsonProperty("working_set_method") String workingSetMethod,
                              @JsonProperty("working_set_pages_by_method") java.util.Map<String, Long> workingSetPagesByMethod,
                              @JsonProperty("uffd") UffdStats uffd) {
        public MemoryStats(long majorFaults, long diskReadBytes, Long workingSetPages, Long loadingSetPages) {
            this(majorFaults, diskReadBytes, workingSetPages, loadingSetPages, null, null, null);
        }
    }

    /**
     * What thaw's page server did for this invocation (userfaultfd strategies only): the faults it
     * served (for a restore, from the VMM's start), how many were zero pages, the pages a
     * strategy installed before they were touched, the zero pages it handed to the kernel as
     * anonymous memory (they never reach the server), and the service time of a fault (reading
     * the message to the resolving ioctl's return), nearest-rank p50 and p99, in µs.
     */
    public record UffdStats(@JsonProperty("faults") long faults,
                            @JsonProperty("zero_pages") long zeroPages,
                            @JsonProperty("installed_pages") long installedPages,
                            @JsonProperty("service_p50_us") double serviceP50Us,
                            @JsonProperty("service_p99_us") double serviceP99Us,
                            @JsonProperty("anonymous_pages") long anonymousPages) {}
}
