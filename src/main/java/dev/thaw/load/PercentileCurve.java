package dev.thaw.load;

import java.util.SplittableRandom;

/**
 * A distribution known only by a few percentiles, as the Azure traces give them. A draw
 * picks a uniform quantile and interpolates linearly between the two neighbouring
 * percentiles, so every value falls between the neighbours that bracket its quantile.
 *
 * <p>This is an input model, not a statistic of measured data: interpolating is what makes
 * draws continuous. Percentiles of measurements are {@link dev.thaw.common.Percentiles}.
 */
record PercentileCurve(double[] quantiles, double[] values) {
    PercentileCurve {
        if (quantiles.length != values.length || quantiles.length < 2) {
            throw new IllegalArgumentException("need at least two percentiles");
        }
        for (int k = 1; k < quantiles.length; k++) {
            if (quantiles[k] <= quantiles[k - 1]) {
                throw new IllegalArgumentException("percentile levels must increase");
            }
            if (values[k] < values[k - 1]) {
                // Trace data is occasionally not monotone; keep it usable by flattening.
                values[k] = values[k - 1];
            }
        }
    }

    double draw(SplittableRandom rnd) {
        return at(rnd.nextDouble());
    }

    /** The value at quantile {@code q} (below the first level: the first value). */
    double at(double q) {
        if (q <= quantiles[0]) {
            return values[0];
        }
        for (int k = 1; k < quantiles.length; k++) {
            if (q <= quantiles[k]) {
                double f = (q - quantiles[k - 1]) / (quantiles[k] - quantiles[k - 1]);
                return values[k - 1] + f * (values[k] - values[k - 1]);
            }
        }
        return values[values.length - 1];
    }

    double median() {
        return at(0.5);
    }
}
