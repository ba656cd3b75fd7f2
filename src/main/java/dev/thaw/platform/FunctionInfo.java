package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.snapshot.Manifest;

/** A deployed function as {@code GET /functions} shows it. */
public record FunctionInfo(@JsonProperty("name") String name, @JsonProperty("runtime") String runtime,
                           @JsonProperty("memory_mib") int memoryMib, @JsonProperty("vcpus") int vcpus,
                           @JsonProperty("timeout_s") int timeoutSeconds, @JsonProperty("instances") int instances,
                           @JsonProperty("snapshot") Manifest snapshot, @JsonProperty("code_sha256") String codeHash,
                           @JsonProperty("working_set_recorded") boolean workingSetRecorded) {}
