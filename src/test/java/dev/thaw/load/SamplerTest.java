package dev.thaw.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** 200 functions: popularity spread over three orders of magnitude, each with its own daily shape. */
    static int[][] syntheticTrace() {
        SplittableRandom rnd = new SplittableRandom(11);
        int[][] counts = new int[200][120];
        for (int f = 0; f < counts.length; f++) {
            double level = Math.pow(10, rnd.nextDouble() * 3);
            double phase = rnd.nextDouble() * Math.PI * 2;
            for (int m = 0; m < 120; m++) {
                counts[f][m] = (int) Math.round(level * (1 + Math.sin(phase + m / 10.0)));
            }
        }
        return counts;
    }

    @Test
    void takesEverythingWhenAskedForAsManyOrMore() {
        int[][] counts = syntheticTrace();
        assertArrayEquals(IntStream.range(0, 200).toArray(), Sampler.sample(counts, 200, 1));
        assertArrayEquals(IntStream.range(0, 200).toArray(), Sampler.sample(counts, 0, 1));
    }

    @Test
    void sampleIsDistinctSortedAndReproducible() {
        int[][] counts = syntheticTrace();
        int[] a = Sampler.sample(counts, 20, 5);
        assertEquals(20, a.length);
        assertEquals(20, Arrays.stream(a).distinct().count());
        for (int k = 1; k < a.length; k++) {
            assertTrue(a[k] > a[k - 1]);
        }
        assertArrayEquals(a, Sampler.sample(counts, 20, 5));
    }

    @Test
    void onePerPopularityStratum() {
        int[][] counts = syntheticTrace();
        long[] sums = Arrays.stream(counts).mapToLong(c -> Arrays.stream(c).sum()).toArray();
        Integer[] ranked = IntStream.range(0, 200).boxed().toArray(Integer[]::new);
        Arrays.sort(ranked, (x, y) -> sums[x] != sums[y] ? Long.compare(sums[x], sums[y]) : Integer.compare(x, y));
        int[] rank = new int[200];
        for (int r = 0; r < 200; r++) {
            rank[ranked[r]] = r;
        }
        int[] strataHit = new int[10];
        for (int f : Sampler.sample(counts, 10, 9)) {
            strataHit[rank[f] / 20]++;
        }
        assertArrayEquals(new int[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, strataHit);
    }

    @Test
    void sampledShapeIsCloserToTheTraceThanPlainRandomSamples() {
        int[][] counts = syntheticTrace();
        double[] target = Sampler.profile(counts, IntStream.range(0, 200).toArray());
        double chosen = Sampler.distance(Sampler.profile(counts, Sampler.sample(counts, 10, 3)), target);
        SplittableRandom rnd = new SplittableRandom(99);
        double[] random = new double[50];
        for (int t = 0; t < random.length; t++) {
            int[] pick = rnd.ints(0, 200).distinct().limit(10).toArray();
            random[t] = Sampler.distance(Sampler.profile(counts, pick), target);
        }
        Arrays.sort(random);
        assertTrue(chosen < random[random.length / 2], "sample distance " + chosen + " vs random median " + random[25]);
    }
}
