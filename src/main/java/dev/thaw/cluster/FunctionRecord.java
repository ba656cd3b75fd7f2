package dev.thaw.cluster;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One function in the cluster's registry, {@code /thaw/functions/<name>}: which code (the bundle
 * under {@code /thaw/bundles/<code_hash>}), which snapshot, and the node that built it. Nodes
 * without that snapshot fetch it from a peer; a delete of the key undeploys it everywhere.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FunctionRecord(@JsonProperty("name") String name, @JsonProperty("code_hash") String codeHash,
                             @JsonProperty("snapshot_id") String snapshotId, @JsonProperty("memory_mib") int memoryMib,
                             @JsonProperty("origin") String origin, @JsonProperty("origin_url") String originUrl) {}
