package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The answer to one invocation.
 *
 * @param coldStart how the instance was obtained when it was not already running
 *                  ({@code cold}, {@code vanilla}, …), or null for a warm hit
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InvocationResult(
        @JsonProperty("invocation_id") String invocationId,
        @JsonProperty("function") String function,
        @JsonProperty("result") JsonNode result,
        @JsonProperty("instance") String instance,
        @JsonProperty("mode") String mode,
        @JsonProperty("cold_start") String coldStart,
        @JsonProperty("timing_ms") Timing timing) {}
