package dev.thaw.load;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeds derived from the workload seed and a name, so that a function's random draws do not
 * depend on which other functions were sampled or in which order they were generated.
 */
final class Seeds {
    private Seeds() {}

    static SplittableRandom random(long seed, String purpose, String name) {
        long h = mix(seed);
        for (byte b : (purpose + "/" + name).getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        return new SplittableRandom(h);
    }

    /** SplitMix64's finaliser: a cheap, well-spread 64-bit mix. */
    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
