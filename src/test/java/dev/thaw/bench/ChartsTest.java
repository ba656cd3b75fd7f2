package dev.thaw.bench;

import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.YIntervalSeriesCollection;
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
    /** The modes ReportFixture has results for, in report order. */
    private static final List<String> FIXTURE_MODES = List.of("cold", "vanilla", "cached", "reap", "faasnap", "warm");

    @Test
    void rendersEveryChartAsANonEmptyPngOfItsSize() throws IOException {
        List<Charts.Chart> charts = Charts.all(ReportFixture.report());
        assertEquals(List.of("latency.png", "phases.png", "memory.png", "concurrency.png"), charts.stream().map(Charts.Chart::file).toList());
        // Two functions fit the minimum widths; the phase chart grows by a row per bar and per function heading.
        List<List<Integer>> sizes = List.of(List.of(900, 620), List.of(1100, 150 + (12 + 2) * 24), List.of(800, 560), List.of(800, 560));
        for (int i = 0; i < charts.size(); i++) {
            Charts.Chart c = charts.get(i);
            byte[] png = c.png();
            BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(back, c.file() + " is not a PNG");
            assertEquals(sizes.get(i), List.of(back.getWidth(), back.getHeight()), c.file());
            assertTrue(colours(back) > 10, c.file() + " looks blank");
        }
    }

    @Test
    void sameDataGivesTheSameImages() {
        List<Charts.Chart> a = Charts.all(ReportFixture.report()), b = Charts.all(ReportFixture.report());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).png(), b.get(i).png(), a.get(i).file());
    }

    @Test
    void latencyChartHasABarPerModeAndFunctionOnALogScale() {
        BenchReport r = ReportFixture.report();
        Charts.Chart c = Charts.latency(r);
        assertTrue(c.caption().contains("logarithmic"), c.caption());
        CategoryPlot plot = c.chart().getCategoryPlot();
        assertEquals(FIXTURE_MODES, plot.getDataset().getRowKeys());
        assertEquals(List.of("hello", "json"), plot.getDataset().getColumnKeys());
        assertEquals(2402.0, plot.getDataset().getValue("cold", "hello").doubleValue());
        assertInstanceOf(LogAxis.class, plot.getRangeAxis());
        assertInstanceOf(WhiskerBarRenderer.class, plot.getRenderer());
        assertEquals("Start-up latency by function and mode", c.chart().getTitle().getText());
        assertTrue(subtitle(c).endsWith("input \"test\", one invocation at a time; tcg, read_ahead_kb 8192, VMM THP advice drop"), subtitle(c));
    }

    @Test
    void phaseChartStacksThePhasesAndBreaksTheAxisForColdBoots() {
        BenchReport r = ReportFixture.report();
        Charts.Chart c = Charts.all(r).get(1);
        assertEquals("phases.png", c.file());
        assertTrue(subtitle(c).contains("VMM THP advice drop"), subtitle(c));
        CombinedDomainCategoryPlot plot = (CombinedDomainCategoryPlot) c.chart().getPlot();
        assertEquals(PlotOrientation.HORIZONTAL, plot.getOrientation());
        List<?> panels = plot.getSubplots();
        assertEquals(2, panels.size(), "cold boots take ten times a restore: the axis is broken in two");
        CategoryPlot near = (CategoryPlot) panels.get(0), far = (CategoryPlot) panels.get(1);
        assertInstanceOf(StackedBarRenderer.class, near.getRenderer());
        assertEquals(r.phases(), near.getDataset().getRowKeys());
        assertEquals(r.phases().size(), plot.getLegendItems().getItemCount(), "one legend entry per phase, not per panel");
        // A heading row per function, then a bar per mode.
        assertEquals(2 + 12, near.getDataset().getColumnCount());
        assertEquals(new PhaseChart.Row("hello", null), near.getDataset().getColumnKey(0));
        // Every total is printed once, in the panel where its bar ends: the restores near, the cold boots far.
        assertEquals(10, near.getAnnotations().size());
        assertEquals(2, far.getAnnotations().size());
        assertTrue(far.getRangeAxis().getLowerBound() > near.getRangeAxis().getUpperBound());
        assertTrue(far.getRangeAxis().getRange().contains(3602.0));
        assertTrue(c.caption().contains("broken"), c.caption());
    }

    @Test
    void phaseChartKeepsOneAxisWhenNothingIsFarLonger() {
        BenchReport full = ReportFixture.report();
        List<BenchResult> restores = full.results().stream().filter(x -> !x.mode().equals("cold")).toList();
        BenchReport r = new BenchReport("s", null, null, null, null, full.host(), null, full.functions(), restores, null, null);
        CombinedDomainCategoryPlot plot = (CombinedDomainCategoryPlot) PhaseChart.of(r).chart().getPlot();
        assertEquals(1, plot.getSubplots().size());
        assertEquals(2 * 5, ((CategoryPlot) plot.getSubplots().getFirst()).getAnnotations().size());
    }

    @Test
    void memoryChartComparesBothSetsWithGuestMemory() {
        CategoryPlot plot = Charts.memory(ReportFixture.report()).chart().getCategoryPlot();
        assertEquals(List.of("guest memory", "working set", "loading set"), plot.getDataset().getRowKeys());
        assertEquals(List.of("hello", "json"), plot.getDataset().getColumnKeys());
        assertEquals(256.0, plot.getDataset().getValue("guest memory", "hello").doubleValue());
        double ws = plot.getDataset().getValue("working set", "hello").doubleValue();
        assertTrue(ws > 0 && ws < 256, "working set " + ws);
    }

    @Test
    void concurrencyChartHasALinePerModeWithMinMaxWhiskers() {
        XYPlot plot = Charts.concurrency(ReportFixture.report()).chart().getXYPlot();
        YIntervalSeriesCollection data = (YIntervalSeriesCollection) plot.getDataset();
        assertEquals(2, data.getSeriesCount());
        assertEquals(List.of("vanilla", "faasnap"), List.of(data.getSeriesKey(0), data.getSeriesKey(1)));
        assertArrayEquals(new String[]{"1", "2", "4", "8"}, ((SymbolAxis) plot.getDomainAxis()).getSymbols());
        for (int s = 0; s < 2; s++) {
            assertEquals(4, data.getItemCount(s));
            for (int i = 0; i < 4; i++) {
                assertTrue(data.getStartYValue(s, i) <= data.getYValue(s, i) && data.getYValue(s, i) <= data.getEndYValue(s, i));
            }
        }
        assertTrue(data.getYValue(0, 3) > data.getYValue(0, 0), "the fixture's vanilla slows down with P");
    }

    @Test
    void chartsWithoutTheirDataAreLeftOut() {
        BenchReport full = ReportFixture.report();
        // Only the demo's modes, no memory counters, one parallelism level: just latency and phases.
        List<BenchResult> plain = full.results().stream()
                .filter(r -> r.parallelism() == 1 && r.experiment().equals("modes"))
                .map(r -> new BenchResult(r.experiment(), r.function(), r.mode(), r.input(), 1, r.runs(), r.invocations(), 0,
                        r.totalMs(), r.phasesMs(), null, null, null, null, null))
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
        for (String mode : FIXTURE_MODES) assertTrue(text.contains("<dt>" + mode + "</dt>"), mode);
        for (String png : List.of("latency.png", "phases.png", "memory.png", "concurrency.png")) assertTrue(Files.size(dir.resolve(png)) > 1000, png);
        assertTrue(text.contains("2,402") || text.contains("2402.0 ms"), "hello's cold median is in the summary table");
        assertTrue(text.contains("Medians are percentiles by nearest rank: the smallest value"), "the report defines its median");
    }

    private static String subtitle(Charts.Chart c) {
        return ((TextTitle) c.chart().getSubtitle(0)).getText();
    }

    private static int colours(BufferedImage img) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) seen.add(img.getRGB(x, y));
        }
        return seen.size();
    }
}
