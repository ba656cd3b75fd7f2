package dev.thaw.bench;

import dev.thaw.common.Percentiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark report: one HTML file with everything inline (styles, and the charts as data
 * URIs) so it opens anywhere, offline, and can be mailed or archived as one file; the charts are
 * also written next to it as PNGs for slides and papers.
 */
public final class HtmlReport {
    private HtmlReport() {}

    /** Writes report.html and the chart PNGs into {@code dir}; returns the HTML file. */
    public static Path write(BenchReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Charts.Chart> charts = Charts.all(report);
        List<byte[]> pngs = new ArrayList<>();
        for (Charts.Chart c : charts) {
            byte[] png = c.png();
            Files.write(dir.resolve(c.file()), png);
            pngs.add(png);
        }
        Path html = dir.resolve("report.html");
        Files.writeString(html, render(report, charts, pngs));
        return html;
    }

    static String render(BenchReport r, List<Charts.Chart> charts, List<byte[]> pngs) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>thaw bench: ")
                .append(esc(r.scenario())).append("</title>\n<style>\n").append(CSS).append("</style></head><body>\n");
        h.append("<h1>thaw bench: ").append(esc(r.scenario())).append("</h1>\n");
        if (r.description() != null && !r.description().isBlank()) h.append("<p>").append(esc(r.description())).append("</p>\n");
        facts(h, r);
        if (r.aborted() != null) h.append("<p class=\"bad\"><b>The run stopped early:</b> ").append(esc(r.aborted())).append("</p>\n");

        List<String> modes = r.results().stream().map(BenchResult::mode).distinct()
                .sorted(java.util.Comparator.comparingInt(Modes::order)).toList();
        h.append("<h2>The modes</h2>\n<dl class=\"modes\">\n");
        for (String m : modes) h.append("<dt>").append(esc(m)).append("</dt><dd>").append(esc(Modes.explain(m))).append("</dd>\n");
        h.append("</dl>\n");

        summary(h, r, modes);
        for (int i = 0; i < charts.size(); i++) {
            Charts.Chart c = charts.get(i);
            h.append("<figure><h2>").append(esc(c.title())).append("</h2>\n<img alt=\"").append(esc(c.title()))
                    .append("\" width=\"").append(c.image().getWidth()).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(pngs.get(i))).append("\">\n<figcaption>")
                    .append(esc(c.caption())).append(" (Also saved as <code>").append(esc(c.file())).append("</code>.)</figcaption></figure>\n");
        }
        if (charts.stream().noneMatch(c -> c.file().equals("memory.png"))) {
            h.append("<p class=\"note\">No working-set chart: the daemon reported no working-set or loading-set sizes "
                    + "(they come with the reap and faasnap modes).</p>\n");
        }
        details(h, r);
        if (!r.skipped().isEmpty()) {
            h.append("<h2>Skipped</h2>\n<ul>\n");
            for (BenchRunner.Skip s : r.skipped()) h.append("<li><b>").append(esc(s.what())).append("</b>: ").append(esc(s.reason())).append("</li>\n");
            h.append("</ul>\n");
        }
        h.append("<p class=\"note\">Every invocation is in <code>invocations.csv</code>, the summary in <code>results.json</code>. "
                + "Latency is the daemon's <code>timing_ms.total</code>: from receiving the request to having the function's answer. "
                + "Medians are percentiles by " + Percentiles.DEFINITION + ": " + esc(Percentiles.EXPLANATION) + ".</p>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void facts(StringBuilder h, BenchReport r) {
        h.append("<table class=\"facts\">\n");
        fact(h, "started", r.started());
        fact(h, "finished", r.finished());
        fact(h, "daemon", r.daemon());
        if (r.host() != null) {
            HostReport host = r.host();
            fact(h, "host", String.format(Locale.ROOT, "accelerator %s, %d CPUs, kernel %s", host.accel(), host.cpus(), host.kernel()));
            String ra = host.readAheadKb() + " KiB";
            if (r.readAhead() != null) ra += " (set for this run; it was " + r.readAhead().previousKb() + " KiB and has been restored)";
            fact(h, "read_ahead_kb", ra + " — how much the kernel reads from disk around each page fault");
            if (host.vmmThpAdvice() != null) {
                fact(h, "VMM huge-page advice", "keep".equals(host.vmmThpAdvice())
                        ? "kept: QEMU advised huge pages over guest RAM, so each fault read about 4 MiB whatever read_ahead_kb says"
                        : host.vmmThpAdvice() + ": faults read what read_ahead_kb decides, as with Firecracker (the papers' VMM)");
            }
            if ("tcg".equalsIgnoreCase(host.accel())) {
                fact(h, "note", "VMs ran under QEMU TCG (software emulation, no KVM): absolute times are far above what "
                        + "hardware virtualisation gives; compare modes with each other, not with the papers' numbers.");
            }
        }
        h.append("</table>\n");
    }

    private static void fact(StringBuilder h, String k, String v) {
        if (v == null) return;
        h.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>\n");
    }

    /** Functions down, modes across: the median latency, and under it the page faults and bytes read from disk. */
    private static void summary(StringBuilder h, BenchReport r, List<String> modes) {
        List<BenchResult> rows = Charts.primary(r);
        if (rows.isEmpty()) return;
        h.append("<h2>Summary</h2>\n<p>Median start-up latency per function and mode (input <code>")
                .append(esc(Charts.primaryInput(r))).append("</code>, one invocation at a time); under each, the median number of "
                        + "major page faults of the VM and the bytes it read from disk, when the daemon reports them, and "
                        + "the mode against vanilla run by run: the median of (this run ÷ vanilla's run of the same round) and "
                        + "in how many runs it was the faster. Modes take turns run by run, so each pair was measured seconds apart.</p>\n");
        h.append("<table class=\"grid\"><thead><tr><th>function</th><th>memory</th>");
        for (String m : modes) h.append("<th>").append(esc(m)).append("</th>");
        h.append("</tr></thead><tbody>\n");
        for (String fn : rows.stream().map(BenchResult::function).distinct().toList()) {
            BenchReport.FunctionNote note = r.functions().get(fn);
            h.append("<tr><th>").append(esc(fn)).append("</th><td>").append(note == null ? "" : note.memoryMib() + " MiB").append("</td>");
            for (String m : modes) {
                BenchResult x = rows.stream().filter(b -> b.function().equals(fn) && b.mode().equals(m)).findFirst().orElse(null);
                if (x == null) {
                    h.append("<td class=\"na\">—</td>");
                    continue;
                }
                h.append("<td><b>").append(BenchReport.ms(x.totalMs().median())).append(" ms</b>");
                double faults = x.memoryMedian("major_faults"), disk = x.memoryMedian("disk_read_bytes");
                if (!Double.isNaN(faults) || !Double.isNaN(disk)) {
                    h.append("<br><small>").append(BenchReport.count(faults)).append(" faults · ")
                            .append(BenchReport.mib(disk)).append(" MiB read</small>");
                }
                if (x.vsVanilla() != null) {
                    h.append("<br><small>×").append(BenchReport.vsVanilla(x.vsVanilla())).append(" vs vanilla</small>");
                }
                if (x.errors() > 0) h.append("<br><small class=\"bad\">").append(x.errors()).append(" failed</small>");
                h.append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</tbody></table>\n");
    }

    /** Every result with all its numbers. */
    private static void details(StringBuilder h, BenchReport r) {
        List<String> phases = r.phases();
        h.append("<h2>All results</h2>\n<p>Times in ms (medians unless marked); n = invocations summarised; "
                + "WS/LS = working/loading set in MiB; — = not reported.</p>\n<div class=\"wide\"><table class=\"grid details\"><thead><tr>");
        for (String c : List.of("experiment", "function", "mode", "input", "P", "n", "median", "min", "max")) h.append("<th>").append(c).append("</th>");
        for (String p : phases) h.append("<th>").append(esc(p)).append("</th>");
        for (String c : List.of("major faults", "disk MiB", "WS MiB", "LS MiB", "notes")) h.append("<th>").append(c).append("</th>");
        h.append("</tr></thead><tbody>\n");
        for (BenchResult x : r.results()) {
            h.append("<tr>");
            for (String c : List.of(x.experiment(), x.function(), x.mode(), x.input())) h.append("<td>").append(esc(c)).append("</td>");
            h.append("<td>").append(x.parallelism()).append("</td><td>").append(x.invocations()).append("</td>");
            h.append("<td><b>").append(BenchReport.ms(x.totalMs().median())).append("</b></td><td>").append(BenchReport.ms(x.totalMs().min()))
                    .append("</td><td>").append(BenchReport.ms(x.totalMs().max())).append("</td>");
            for (String p : phases) {
                Double v = x.phasesMs().get(p);
                h.append("<td>").append(v == null ? "—" : BenchReport.ms(v)).append("</td>");
            }
            h.append("<td>").append(dash(BenchReport.count(x.memoryMedian("major_faults")))).append("</td>");
            h.append("<td>").append(dash(BenchReport.mib(x.memoryMedian("disk_read_bytes")))).append("</td>");
            h.append("<td>").append(dash(BenchReport.mib(x.memoryMedian("working_set_pages") * 4096))).append("</td>");
            h.append("<td>").append(dash(BenchReport.mib(x.memoryMedian("loading_set_pages") * 4096))).append("</td>");
            List<String> notes = new ArrayList<>(x.warnings());
            if (x.errors() > 0) notes.addFirst(x.errors() + " invocations failed (see invocations.csv)");
            h.append("<td class=\"notes\">").append(esc(String.join("; ", notes))).append("</td></tr>\n");
        }
        h.append("</tbody></table></div>\n");
    }

    private static String dash(String s) {
        return s.equals("-") ? "—" : s;
    }

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static final String CSS = """
            body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #222;
                   max-width: 1280px; margin: 24px auto; padding: 0 24px; }
            h1 { font-size: 26px; margin-bottom: 4px; }
            h2 { font-size: 19px; margin: 28px 0 8px; }
            code { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; background: #f3f3f3; padding: 0 3px; }
            table { border-collapse: collapse; }
            table.facts th { text-align: left; padding: 2px 14px 2px 0; color: #555; font-weight: 600; vertical-align: top; }
            table.facts td { padding: 2px 0; }
            table.grid { margin: 8px 0; font-variant-numeric: tabular-nums; }
            table.grid th, table.grid td { border: 1px solid #d8d8d8; padding: 5px 9px; text-align: right; vertical-align: top; }
            table.grid thead th { background: #f0f2f5; text-align: center; }
            table.grid tbody th { text-align: left; background: #fafafa; }
            table.details td:nth-child(-n+4) { text-align: left; }
            table.grid small { color: #666; }
            td.na { color: #aaa; text-align: center; }
            td.notes { text-align: left; color: #8a5a00; font-size: 13px; max-width: 360px; }
            .wide { overflow-x: auto; }
            dl.modes dt { font-weight: 700; float: left; clear: left; width: 80px; }
            dl.modes dd { margin: 0 0 6px 90px; }
            figure { margin: 24px 0; }
            figure img { max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
            figcaption { color: #444; font-size: 14px; margin-top: 6px; max-width: 1000px; }
            .note { color: #555; font-size: 14px; }
            .bad { color: #b00020; }
            """;
}
