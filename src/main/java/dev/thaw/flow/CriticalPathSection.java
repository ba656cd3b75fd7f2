package dev.thaw.flow;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** A stretch of a trace's critical path during which {@code spanId} was the span being waited for. */
@JsonPropertyOrder({"spanId", "function", "operation", "start_us", "end_us"})
public record CriticalPathSection(@JsonProperty("spanId") String spanId, String function, String operation,
                                  long startUs, long endUs) {
    public long lengthUs() {
        return endUs - startUs;
    }
}
