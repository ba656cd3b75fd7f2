package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.vm.HostInfo;

import java.nio.file.Path;

/** The host facts stored with every benchmark result: numbers mean little without them. */
public record HostReport(@JsonProperty("accel") String accel, @JsonProperty("cpus") int cpus,
                         @JsonProperty("read_ahead_kb") int readAheadKb, @JsonProperty("kernel") String kernel) {
    public static HostReport of(String accel, Path dataDir) {
        return new HostReport(accel, HostInfo.cpus(), HostInfo.readAheadKb(dataDir), HostInfo.kernel());
    }
}
