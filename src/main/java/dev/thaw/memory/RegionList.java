package dev.thaw.memory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * FaaSnap's per-region layout of guest memory, as the list the QEMU preload
 * {@code src/main/c/thaw-regions.c} reads: which zero runs of the memory file are mapped
 * anonymous over the file mapping (docs/design.md §2, {@code faasnap}).
 *
 * <p>Not every zero run becomes a region. Each region splits the file mapping, so it costs two
 * kernel mappings (the default {@code vm.max_map_count} is 65,530) and one {@code mmap} at QEMU's
 * start; and a zero run of fewer than {@link #MIN_REGION_PAGES} pages between data pages is read
 * by the same I/O as its neighbours anyway (a file fault maps up to 16 cached neighbours, and
 * read-ahead reads 32 pages at the default {@code read_ahead_kb} 128), so mapping it anonymous
 * saves nothing. Such tiny runs stay in the file mapping: FaaSnap's merging of short gaps
 * between file regions, seen from the other side. Should a snapshot still have more than
 * {@link #MAX_REGIONS} runs (a fragmented guest), the threshold doubles until it has no more,
 * keeping the VMM at most about 8,200 mappings for its RAM. The suite's snapshots have about 300
 * zero runs, of which about 135 are 4 pages or longer and hold 99% of the zero pages.
 *
 * <p>The file format (strict; the C side refuses anything else):
 * <pre>
 *   thaw-regions 1
 *   pages &lt;pages in the memory file&gt;
 *   &lt;first page&gt; &lt;count&gt;      one line per region, ascending, not overlapping
 *   end
 * </pre>
 */
public final class RegionList {
    /** Zero runs shorter than this stay in the file mapping. */
    public static final int MIN_REGION_PAGES = 4;
    /** At most this many regions (two mappings each). */
    public static final int MAX_REGIONS = 4096;
    static final String MAGIC = "thaw-regions 1";

    private RegionList() {}

    /** The zero runs mapped anonymous: runs of at least {@link #MIN_REGION_PAGES}, at most {@link #MAX_REGIONS} of them. */
    public static List<PageRun> regions(List<PageRun> zeroRuns) {
        return regions(zeroRuns, MIN_REGION_PAGES, MAX_REGIONS);
    }

    static List<PageRun> regions(List<PageRun> zeroRuns, int minPages, int maxRegions) {
        long threshold = Math.max(1, minPages);
        while (true) {
            List<PageRun> out = new ArrayList<>();
            for (PageRun r : zeroRuns) if (r.count() >= threshold) out.add(r);
            if (out.size() <= maxRegions) return out;
            threshold *= 2;
        }
    }

    /** The list's text for a memory file of {@code filePages} pages; checks what the C side checks. */
    public static String format(long filePages, List<PageRun> regions) {
        StringBuilder s = new StringBuilder(32 + 16 * regions.size());
        s.append(MAGIC).append('\n').append("pages ").append(filePages).append('\n');
        long free = 0;
        for (PageRun r : regions) {
            if (r.start() < free || r.end() > filePages) {
                throw new IllegalArgumentException("region " + r.start() + "+" + r.count()
                        + " is out of order, overlapping or past page " + filePages);
            }
            s.append(r.start()).append(' ').append(r.count()).append('\n');
            free = r.end();
        }
        return s.append("end\n").toString();
    }

    /** Writes the list atomically (a temporary file renamed into place), readable by the jailed VMM's user. */
    public static void write(Path file, long filePages, List<PageRun> regions) throws IOException {
        byte[] text = format(filePages, regions).getBytes(StandardCharsets.US_ASCII);
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, text);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * {@code runs} with every page of {@code regions} cut out, order kept: what a prefetcher of the
     * file mapping still has to read once the regions are anonymous (reading them would be waste).
     */
    public static List<PageRun> without(List<PageRun> runs, List<PageRun> regions) {
        BitSet anon = Runs.toBitSet(regions);
        List<PageRun> out = new ArrayList<>();
        for (PageRun r : runs) {
            long p = r.start();
            while (p < r.end()) {
                int a = anon.nextSetBit((int) p);
                long stop = a < 0 || a >= r.end() ? r.end() : a;
                if (stop > p) out.add(new PageRun(p, stop - p));
                if (stop >= r.end()) break;
                int next = anon.nextClearBit((int) stop);
                p = next;
            }
        }
        return out;
    }
}
