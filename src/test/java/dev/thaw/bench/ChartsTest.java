package dev.thaw.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ChartsTest {
    @Test
    void rendersEveryChartAsANonEmptyPngOfItsSize() throws IOException {
        List<Charts.Chart> charts = Charts.all(ReportFixture.report());
        assertEquals(List.of("latency.png", "phases.png", "memory.png", "concurrency.png"), charts.stream().map(Charts.Chart::file).toList());
        for (Charts.Chart c : charts) {
            byte[] png = c.png();
            BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(back, c.file() + " is not a PNG");
            assertEquals(c.image().getWidth(), back.getWidth());
            assertEquals(c.image().getHeight(), back.getHeight());
            assertTrue(back.getWidth() >= 800 && back.getHeight() >= 400, c.file() + " is " + back.getWidth() + "x" + back.getHeight());
            assertTrue(colours(back) > 10, c.file() + " looks blank");
        }
    }

    @Test
    void latencyChartUsesALogScaleWhenModesDifferByOrdersOfMagnitudeAndGrowsWithFunctions() {
        Charts.Chart c = Charts.latency(ReportFixture.report());
        assertTrue(c.caption().contains("logarithmic"), c.caption());
        assertEquals(900, c.image().getWidth()); // two functions fit the minimum width
    }

    @Test
    void chartsWithoutTheirDataAreLeftOut() {
        BenchReport full = ReportFixture.report();
        // Only the demo's modes, no memory counters, one parallelism level: just latency and phases.
        List<BenchResult> plain = full.results().stream()
                .filter(r -> r.parallelism() == 1 && r.experiment().equals("modes"))
                .map(r -> new BenchResult(r.experiment(), r.function(), r.mode(), r.input(), 1, r.runs(), r.invocations(), 0,
                        r.totalMs(), r.phasesMs(), null, null, null))
                .toList();
        BenchReport report = new BenchReport("s", null, null, null, null, full.host(), null, full.functions(), plain, null, null);
        assertEquals(List.of("latency.png", "phases.png"), Charts.all(report).stream().map(Charts.Chart::file).toList());
        assertTrue(Charts.all(new BenchReport("s", null, null, null, null, null, null, null, List.of(), null, null)).isEmpty());
    }

    @Test
    void htmlReportIsSelfContained(@TempDir Path dir) throws IOException {
        Path html = HtmlReport.write(ReportFixture.report(), dir);
        String text = Files.readString(html);
        assertFalse(text.contains("<script"), "no JavaScript");
        assertFalse(text.contains("http://") || text.contains("https://"), "nothing fetched from the network");
        assertFalse(text.contains("<link"), "no external CSS");
        assertEquals(4, text.split("src=\"data:image/png;base64,", -1).length - 1);
        for (String mode : Modes.ALL) assertTrue(text.contains("<dt>" + mode + "</dt>"), mode);
        for (String png : List.of("latency.png", "phases.png", "memory.png", "concurrency.png")) assertTrue(Files.size(dir.resolve(png)) > 1000, png);
        assertTrue(text.contains("2,402") || text.contains("2402.0 ms"), "hello's cold median is in the summary table");
        assertTrue(text.contains("Medians are percentiles by nearest rank: the smallest value"), "the report defines its median");
    }

    private static int colours(BufferedImage img) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) seen.add(img.getRGB(x, y));
        }
        return seen.size();
    }
}
