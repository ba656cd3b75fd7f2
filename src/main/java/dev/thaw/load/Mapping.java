package dev.thaw.load;

import java.util.List;

/**
 * How the functions of a source become invocations of deployed functions.
 *
 * <ul>
 *   <li>{@code spin}: every invocation goes to one function (default {@code spin}) with the event
 *       {@code {"duration_ms": d, "memory_mib": m}} taken from the source, capped if asked;</li>
 *   <li>{@code classes}: each source function goes to the first class whose
 *       {@code max_duration_ms} is at least its median duration (the last class takes the
 *       rest), with that class's fixed event;</li>
 *   <li>{@code direct}: each source function goes to the deployed function of the same name,
 *       with its own fixed event if the source gives one, else the spin-style event.</li>
 * </ul>
 */
record Mapping(Kind kind, String function, int maxDurationMs, int maxMemoryMib, List<DurationClass> classes) {

    enum Kind { SPIN, CLASSES, DIRECT }

    /** Functions whose median duration is at most {@code maxDurationMs} (last class: no limit, -1). */
    record DurationClass(int maxDurationMs, String function, String event) {
    }

    static final int NO_LIMIT = Integer.MAX_VALUE;

    static Mapping spin() {
        return new Mapping(Kind.SPIN, "spin", NO_LIMIT, NO_LIMIT, List.of());
    }

    LoadFunction map(SourceFunction f) {
        return switch (kind) {
            case SPIN -> new LoadFunction(f.name(), function, null, f.medianDurationMs());
            case DIRECT -> new LoadFunction(f.name(), f.name(), f.event(), f.medianDurationMs());
            case CLASSES -> {
                DurationClass chosen = classes.getLast();
                for (DurationClass c : classes) {
                    if (c.maxDurationMs() < 0 || f.medianDurationMs() <= c.maxDurationMs()) {
                        chosen = c;
                        break;
                    }
                }
                yield new LoadFunction(f.name(), chosen.function(), chosen.event() == null ? "{}" : chosen.event(),
                        f.medianDurationMs());
            }
        };
    }
}
