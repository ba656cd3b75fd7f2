package dev.thaw.load;

/**
 * One function's invocations as a workload source produced them, before mapping and time
 * compression: arrival times in seconds from the start of the window (ascending) and each
 * invocation's duration and memory.
 *
 * @param name             the function's name in the source (trace hash or synthetic name)
 * @param arrivals         arrival times, seconds from the window start, ascending
 * @param durationMs       requested duration of each invocation
 * @param memoryMib        requested memory of each invocation
 * @param medianDurationMs the source's median duration for this function (for mapping by class)
 * @param event            a fixed JSON event for this function (synthetic sources), or null
 */
record SourceFunction(String name, double[] arrivals, int[] durationMs, int[] memoryMib,
                      int medianDurationMs, String event) {
    SourceFunction {
        if (durationMs.length != arrivals.length || memoryMib.length != arrivals.length) {
            throw new IllegalArgumentException("arrays of " + name + " differ in length");
        }
    }

    int count() {
        return arrivals.length;
    }
}
