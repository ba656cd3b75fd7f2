package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.vm.HostInfo;

import java.nio.file.Path;

/**
 * The host facts stored with every benchmark result: numbers mean little without them.
 * {@code vmm_thp_advice} says whether QEMU's huge-page advice over guest RAM was in effect
 * ({@code keep}) or dropped ({@code drop}); with it, faults read ~4 MiB whatever
 * {@code read_ahead_kb} is (see {@link dev.thaw.vm.HugePageAdvice}).
 */
public record HostReport(@JsonProperty("accel") String accel, @JsonProperty("cpus") int cpus,
                         @JsonProperty("read_ahead_kb") int readAheadKb, @JsonProperty("kernel") String kernel,
                         @JsonProperty("vmm_thp_advice") String vmmThpAdvice) {
    public static HostReport of(String accel, String vmmThpAdvice, Path dataDir) {
        return new HostReport(accel, HostInfo.cpus(), HostInfo.readAheadKb(dataDir), HostInfo.kernel(), vmmThpAdvice);
    }
}
