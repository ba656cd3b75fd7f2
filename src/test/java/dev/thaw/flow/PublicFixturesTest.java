package dev.thaw.flow;

import dev.thaw.trace.Trace;
import dev.thaw.trace.TraceReader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Critical paths of traces with known answers.
 *
 * <p>The jaeger-ui-test*.json fixtures re-express the span data of the test cases in the public
 * repository jaegertracing/jaeger-ui, files
 * packages/jaeger-ui/src/components/TracePage/CriticalPath/testCases/test1.js … test9.js (test3's
 * spans come from packages/jaeger-ui/src/components/TracePage/TraceStatistics/tableValuesTestTrace/
 * traceWithSingleChildLongerThanParentAndStartsAfterParent.json), as Jaeger query-API JSON. The
 * CLIP answers are the expected critical-path sections listed in those files, put in time order;
 * Jaeger UI clips children to their parents, which is {@link AsyncPolicy#CLIP}. The FOLLOW
 * answers are ours, worked out by hand for the same traces. zipkin-upload.json is a hand-built
 * Zipkin v2 trace shaped like openzipkin/zipkin's zipkin-lens/testdata/skew.json (shared
 * client/server span ids, a server clock ahead of its client); its answers are hand-verified.
 * See src/test/resources/flow/fixtures/README.md.
 */
class PublicFixturesTest {
    static final Path FIXTURES = Path.of("src/test/resources/flow/fixtures");

    static Stream<Arguments> cases() {
        return Stream.of(
                // test1: C calls D then E sequentially; both on the path.
                Arguments.of("jaeger-ui-test1.json", AsyncPolicy.CLIP,
                        List.of("span-C 1-20", "span-D 20-40", "span-C 40-50", "span-E 50-60", "span-C 60-101")),
                Arguments.of("jaeger-ui-test1.json", AsyncPolicy.FOLLOW,
                        List.of("span-C 1-20", "span-D 20-40", "span-C 40-50", "span-E 50-60", "span-C 60-101")),
                // test2: overlapping children A and C; only C, finishing last, is on the path.
                Arguments.of("jaeger-ui-test2.json", AsyncPolicy.CLIP,
                        List.of("span-X 1-20", "span-C 20-60", "span-X 60-101")),
                Arguments.of("jaeger-ui-test2.json", AsyncPolicy.FOLLOW,
                        List.of("span-X 1-20", "span-C 20-60", "span-X 60-101")),
                // test3: the child starts after its parent ended; Jaeger drops it.
                Arguments.of("jaeger-ui-test3.json", AsyncPolicy.CLIP,
                        List.of("006c3cf93508f205 100-140")),
                Arguments.of("jaeger-ui-test3.json", AsyncPolicy.FOLLOW,
                        List.of("006c3cf93508f205 100-140", "2dc4b796e2127e32 200-500")),
                // test4: a child (with its own child) entirely after the parent.
                Arguments.of("jaeger-ui-test4.json", AsyncPolicy.CLIP, List.of("span-A 1-31")),
                Arguments.of("jaeger-ui-test4.json", AsyncPolicy.FOLLOW,
                        List.of("span-A 1-31", "span-B 40-50", "span-c 50-60", "span-B 60-80")),
                // test5: a FOLLOWS_FROM child within its parent is not waited for.
                Arguments.of("jaeger-ui-test5.json", AsyncPolicy.CLIP, List.of("span-A 1-31")),
                Arguments.of("jaeger-ui-test5.json", AsyncPolicy.FOLLOW, List.of("span-A 1-31")),
                // test6: B overflows A's end; B's child C starts before B.
                Arguments.of("jaeger-ui-test6.json", AsyncPolicy.CLIP,
                        List.of("span-A 1-15", "span-C 15-25", "span-B 25-30")),
                Arguments.of("jaeger-ui-test6.json", AsyncPolicy.FOLLOW,
                        List.of("span-A 1-15", "span-C 15-25", "span-B 25-35")),
                // test7: B overflows A, C overflows B.
                Arguments.of("jaeger-ui-test7.json", AsyncPolicy.CLIP,
                        List.of("span-A 1-15", "span-B 15-20", "span-C 20-30")),
                Arguments.of("jaeger-ui-test7.json", AsyncPolicy.FOLLOW,
                        List.of("span-A 1-15", "span-B 15-20", "span-C 20-40")),
                // test8: the child starts before and ends after its parent.
                Arguments.of("jaeger-ui-test8.json", AsyncPolicy.CLIP, List.of("span-B 10-30")),
                Arguments.of("jaeger-ui-test8.json", AsyncPolicy.FOLLOW, List.of("span-B 10-35")),
                // test9: the child ends before its parent starts; dropped.
                Arguments.of("jaeger-ui-test9.json", AsyncPolicy.CLIP, List.of("span-A 10-30")),
                Arguments.of("jaeger-ui-test9.json", AsyncPolicy.FOLLOW, List.of("span-A 10-30")),
                // Zipkin: frontend calls resize and meta in parallel, then notify, which outlives it.
                // Times are offsets from 1700000000000000 µs. resize's server clock runs 1 ms ahead of
                // the frontend, so its server half (sharing the client's id) is clipped to start at 10 ms.
                Arguments.of("zipkin-upload.json", AsyncPolicy.FOLLOW, List.of(
                        "5af7183fb1d4cf5f 0-10000", "6b221d5bc9e6496c:server 10000-15000",
                        "a1b2c3d4e5f60718 15000-60000", "6b221d5bc9e6496c:server 60000-108000",
                        "6b221d5bc9e6496c 108000-110000", "5af7183fb1d4cf5f 110000-115000",
                        "e4a9f1c2b3d40516 115000-117000", "0f1e2d3c4b5a6978 117000-200000")),
                Arguments.of("zipkin-upload.json", AsyncPolicy.CLIP, List.of(
                        "5af7183fb1d4cf5f 0-10000", "6b221d5bc9e6496c:server 10000-15000",
                        "a1b2c3d4e5f60718 15000-60000", "6b221d5bc9e6496c:server 60000-108000",
                        "6b221d5bc9e6496c 108000-110000", "5af7183fb1d4cf5f 110000-115000",
                        "e4a9f1c2b3d40516 115000-117000", "0f1e2d3c4b5a6978 117000-125000",
                        "5af7183fb1d4cf5f 125000-150000")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void criticalPathMatchesTheKnownAnswer(String file, AsyncPolicy policy, List<String> expected) {
        TraceReader.Result read = TraceReader.read(FIXTURES.resolve(file));
        assertEquals(1, read.traces().size());
        Trace trace = read.traces().getFirst();
        long base = file.startsWith("zipkin") ? 1_700_000_000_000_000L : 0;
        List<String> actual = CriticalPath.compute(trace, policy, w -> {}).sections().stream()
                .map(s -> s.spanId() + " " + (s.startUs() - base) + "-" + (s.endUs() - base))
                .toList();
        assertEquals(expected, actual);
    }
}
