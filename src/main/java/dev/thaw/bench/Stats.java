package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Arrays;
import java.util.Collection;

/** Median, min and max of repeated measurements: what every thaw benchmark reports. */
public record Stats(@JsonProperty("median") double median, @JsonProperty("min") double min, @JsonProperty("max") double max) {
    public static Stats of(Collection<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) return new Stats(Double.NaN, Double.NaN, Double.NaN);
        return new Stats(median(v), v[0], v[v.length - 1]);
    }

    /** The median of sorted values (mean of the middle two for an even count). */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public static double median(Collection<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length == 0 ? Double.NaN : median(v);
    }
}
