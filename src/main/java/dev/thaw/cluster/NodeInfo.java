package dev.thaw.cluster;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * What a node publishes about itself under {@code /thaw/nodes/<name>}, leased: its fixed
 * capacity and, kept current, what it runs. The gateway routes on nothing else.
 *
 * @param url             where the node's API answers (its {@code --advertise} URL)
 * @param memoryUsedMib   guest memory of its running instances
 * @param functions       per deployed function: instances idle and busy, invocations queued, snapshot present
 */
@JsonIgnoreProperties(ignoreUnknown = true) // a newer node may publish more; older gateways still route
public record NodeInfo(@JsonProperty("name") String name, @JsonProperty("url") String url,
                       @JsonProperty("cores") int cores, @JsonProperty("memory_budget_mib") long memoryBudgetMib,
                       @JsonProperty("max_instances") int maxInstances, @JsonProperty("accel") String accel,
                       @JsonProperty("image_key") String imageKey, @JsonProperty("instances") int instances,
                       @JsonProperty("memory_used_mib") long memoryUsedMib,
                       @JsonProperty("functions") Map<String, Load> functions) {

    /** One function on one node. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Load(@JsonProperty("idle") int idle, @JsonProperty("busy") int busy, @JsonProperty("queued") int queued,
                       @JsonProperty("snapshot_id") String snapshotId, @JsonProperty("memory_mib") int memoryMib) {}

    public NodeInfo {
        functions = functions == null ? Map.of() : Map.copyOf(functions);
    }

    public Load load(String function) {
        return functions.get(function);
    }

    /** Whether one more instance of {@code memoryMib} fits under both of the node's limits. */
    public boolean hasRoomFor(int memoryMib) {
        return instances < maxInstances && memoryUsedMib + memoryMib <= memoryBudgetMib;
    }
}
