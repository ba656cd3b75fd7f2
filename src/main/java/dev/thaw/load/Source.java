package dev.thaw.load;

import java.util.List;

/** Where a workload's invocations come from: a trace or a synthetic specification. */
sealed interface Source permits Azure2019Source, Azure2021Source, SyntheticSource {

    /**
     * Generates every invocation of the window, reproducibly for a given seed.
     *
     * @param rateScale multiplies the number of invocations (per minute, or per second for rates)
     */
    Generated generate(double rateScale, long seed);

    /**
     * @param functions     the chosen functions with their invocations
     * @param windowSeconds length of the window in source time (before compression)
     * @param notes         facts worth telling the user (functions skipped, sampling, …)
     */
    record Generated(List<SourceFunction> functions, double windowSeconds, List<String> notes) {
    }
}
