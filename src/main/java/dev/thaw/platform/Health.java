package dev.thaw.platform;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What {@code GET /healthz} reports: the platform is up, what it runs guests with, and whether
 * the start-up check of the snapshots found on disk is over (benchmarks wait for it), and the
 * keep-alive policy in effect ({@code fixed} or {@code histogram}).
 */
public record Health(@JsonProperty("status") String status, @JsonProperty("accel") String accel,
                     @JsonProperty("image") String image, @JsonProperty("vmm_thp_advice") String vmmThpAdvice,
                     @JsonProperty("snapshots_verified") boolean snapshotsVerified,
                     @JsonProperty("keepalive_policy") String keepalivePolicy) {}
