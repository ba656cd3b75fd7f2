package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.common.Percentiles;

import java.util.Arrays;
import java.util.Collection;

/**
 * Median, min and max of repeated measurements: what every thaw benchmark reports. The median is
 * thaw's one percentile definition ({@link Percentiles}, nearest rank): for an even count, the
 * lower middle value, so it is always a latency that was measured.
 */
public record Stats(@JsonProperty("median") double median, @JsonProperty("min") double min, @JsonProperty("max") double max) {
    public static Stats of(Collection<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        if (v.length == 0) return new Stats(Double.NaN, Double.NaN, Double.NaN);
        Arrays.sort(v);
        return new Stats(Percentiles.ofSorted(v, 50), v[0], v[v.length - 1]);
    }
}
