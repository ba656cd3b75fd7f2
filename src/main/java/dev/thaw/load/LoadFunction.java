package dev.thaw.load;

/**
 * A function of the workload after mapping: where its invocations go and with what event.
 *
 * @param source       the function's name in the workload source (trace hash or synthetic name)
 * @param target       the deployed function that receives its invocations
 * @param event        the JSON event sent with every invocation, or null to send each
 *                     invocation's own {@code {"duration_ms":…,"memory_mib":…}} (the spin function)
 * @param medianDurationMs the source's median duration of this function, used for mapping by class
 */
record LoadFunction(String source, String target, String event, int medianDurationMs) {
}
