package dev.thaw.memory;

import dev.thaw.sys.HostCompiler;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The per-region preload ({@code src/main/c/thaw-regions.c}) in a real process: a small C program
 * named like QEMU ({@code regions-probe.c}) maps a file the way QEMU maps guest RAM, under the
 * preload, and prints its /proc/self/maps. Needs the host's cc (skipped without it).
 */
class RegionsPreloadTest {
    private static final int PAGES = 64;
    @TempDir
    static Path cache;
    static Path lib;
    static Path probe;

    @BeforeAll
    static void build() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/cc")), "no cc on this host");
        lib = RegionsPreload.get(cache);
        Path exe = HostCompiler.build("/c/regions-probe.c", cache.resolve("probe"), "regions-probe", false);
        probe = cache.resolve("probe").resolve("qemu-system-probe");
        Files.createSymbolicLink(probe, exe);
    }

    /** A memory file whose every page is filled with the byte (page % 7) + 1: nothing in it is zero. */
    private static Path memory(Path dir) throws IOException {
        byte[] data = new byte[PAGES * 4096];
        for (int p = 0; p < PAGES; p++) java.util.Arrays.fill(data, p * 4096, (p + 1) * 4096, (byte) (p % 7 + 1));
        return Files.write(dir.resolve("memory"), data);
    }

    private static long sumWithout(List<PageRun> anonymous) {
        java.util.BitSet anon = Runs.toBitSet(anonymous);
        long sum = 0;
        for (int p = 0; p < PAGES; p++) if (!anon.get(p)) sum += 4096L * (p % 7 + 1);
        return sum;
    }

    record Run(int status, String out, String err) {}

    private static Run run(Path memory, Path list, Path program) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(program.toString(), memory.toString());
        pb.environment().put("LD_PRELOAD", lib.toString());
        pb.environment().put("THAW_REGIONS_MEM_PATH", memory.toString());
        pb.environment().put("THAW_REGIONS_LIST", list.toString());
        Path err = Files.createTempFile(cache, "err", ".txt");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    /** The pages of the probe's mapping that /proc/self/maps shows as anonymous (no inode), as runs. */
    private static List<PageRun> anonymousPages(String out) {
        String[] head = out.lines().findFirst().orElseThrow().split(" ");
        long base = Long.parseUnsignedLong(head[1], 16), len = Long.parseUnsignedLong(head[3], 16);
        List<PageRun> anon = new ArrayList<>();
        for (String line : out.lines().skip(1).toList()) {
            String[] f = line.trim().split("\\s+");
            String[] range = f[0].split("-");
            long from = Long.parseUnsignedLong(range[0], 16), to = Long.parseUnsignedLong(range[1], 16);
            from = Math.max(from, base); // the kernel merges an anonymous region with an anonymous neighbour outside
            to = Math.min(to, base + len);
            if (from < to && f[4].equals("0")) anon.add(new PageRun((from - base) / 4096, (to - from) / 4096));
        }
        return anon;
    }

    @Test
    void listedRegionsAreAnonymousAndReadZeroTheRestComesFromTheFile(@TempDir Path dir) throws Exception {
        Path mem = memory(dir);
        List<PageRun> regions = List.of(new PageRun(0, 4), new PageRun(10, 6), new PageRun(60, 4));
        Path list = dir.resolve("list");
        RegionList.write(list, PAGES, regions);
        Run r = run(mem, list, probe);
        assertEquals(0, r.status(), r.out() + r.err());
        assertEquals(regions, anonymousPages(r.out()), r.out());
        assertTrue(r.out().lines().findFirst().orElseThrow().endsWith(" sum " + sumWithout(regions)), r.out());
        assertTrue(r.err().contains("3 zero regions mapped anonymous"), r.err());
    }

    @Test
    void anEmptyListLeavesTheFileMappingWhole(@TempDir Path dir) throws Exception {
        Path mem = memory(dir);
        Path list = dir.resolve("list");
        RegionList.write(list, PAGES, List.of());
        Run r = run(mem, list, probe);
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of(), anonymousPages(r.out()));
    }

    @Test
    void aMalformedListFailsTheMappingWithAMessage(@TempDir Path dir) throws Exception {
        Path mem = memory(dir);
        String ok = "thaw-regions 1\npages 64\n4 4\nend\n";
        for (String bad : List.of(
                "", "thaw-regions 2\npages 64\nend\n", "thaw-regions 1\npages 63\nend\n", // wrong version, wrong size
                "thaw-regions 1\npages 64\n4 4\n", // truncated: no end
                "thaw-regions 1\npages 64\n4 0\nend\n", "thaw-regions 1\npages 64\n8 4\n4 2\nend\n", // empty, out of order
                "thaw-regions 1\npages 64\n4 4\n6 4\nend\n", "thaw-regions 1\npages 64\n60 5\nend\n", // overlap, past the end
                "thaw-regions 1\npages 64\n 4 4\nend\n", "thaw-regions 1\npages 64\n+4 4\nend\n", "thaw-regions 1\npages 64\n4  4\nend\n",
                "thaw-regions 1\npages 64\n4 4\r\nend\n", ok + "5 1\n", ok.replace("end\n", "end"))) {
            Path list = Files.writeString(dir.resolve("bad"), bad);
            Run r = run(mem, list, probe);
            assertEquals(3, r.status(), "accepted " + bad.replace("\n", "\\n") + ": " + r.out());
            assertTrue(r.err().startsWith("thaw-regions: "), r.err());
        }
        Files.writeString(dir.resolve("good"), ok);
        assertEquals(0, run(mem, dir.resolve("good"), probe).status(), "the well-formed list beside them maps");
    }

    @Test
    void onlyActsInQemu(@TempDir Path dir) throws Exception {
        Path mem = memory(dir);
        Path list = Files.writeString(dir.resolve("bad"), "garbage");
        Path other = cache.resolve("probe").resolve("not-qemu-" + dir.getFileName());
        Files.createSymbolicLink(other, probe.toRealPath());
        Run r = run(mem, list, other);
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of(), anonymousPages(r.out()));
    }
}
