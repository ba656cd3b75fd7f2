package dev.thaw.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZeroPagesTest {
    private static final int PAGE = Scratch.PAGE;
    private final Scratch scratch = new Scratch();

    @AfterEach
    void cleanUp() throws IOException {
        scratch.close();
    }

    /**
     * A file where roughly half the pages are zero and each non-zero page has exactly one
     * non-zero byte at a random place (first and last byte of a page included), so a scan that
     * skips any part of a page gets it wrong.
     */
    private static byte[] craft(int pages, int tailBytes, long seed, BitSet expectedZero) {
        byte[] bytes = new byte[pages * PAGE + tailBytes];
        SplittableRandom random = new SplittableRandom(seed);
        int total = pages + (tailBytes > 0 ? 1 : 0);
        for (int page = 0; page < total; page++) {
            int size = Math.min(PAGE, bytes.length - page * PAGE);
            if (random.nextBoolean()) {
                expectedZero.set(page);
                continue;
            }
            int at = switch (random.nextInt(4)) {
                case 0 -> 0;
                case 1 -> size - 1;
                default -> random.nextInt(size);
            };
            bytes[page * PAGE + at] = (byte) random.nextInt(1, 256);
        }
        return bytes;
    }

    @Test
    void scanFindsExactlyTheZeroPages() throws IOException {
        BitSet expected = new BitSet();
        // 3000 pages spans several 4 MiB read chunks.
        Path file = scratch.write("mem", craft(3000, 0, 21, expected));
        assertEquals(expected, ZeroPages.scan(file));
    }

    @Test
    void partialLastPageIsZeroOnlyIfItsBytesAre() throws IOException {
        Path zeroTail = scratch.write("zero-tail", new byte[2 * PAGE + 100]);
        BitSet all = new BitSet();
        all.set(0, 3);
        assertEquals(all, ZeroPages.scan(zeroTail));

        byte[] bytes = new byte[2 * PAGE + 100];
        bytes[2 * PAGE + 99] = 1;
        Path dataTail = scratch.write("data-tail", bytes);
        assertEquals(bits(0, 1), ZeroPages.scan(dataTail));
    }

    @Test
    void holesCountAsZeroWithoutBeingRead() throws IOException {
        // Sparse file: data in pages 5 and 300 (written), holes elsewhere, size 1000 pages.
        Path file = scratch.dir().resolve("sparse");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(1000L * PAGE);
            raf.seek(5L * PAGE + 17);
            raf.write(9);
            raf.seek(300L * PAGE);
            raf.write(new byte[PAGE]); // allocated but zero
            raf.getFD().sync();
        }
        BitSet expected = new BitSet();
        expected.set(0, 1000);
        expected.clear(5);
        assertEquals(expected, ZeroPages.scan(file));
        assertEquals(bits(5, 300), ZeroPages.allocatedPages(file));
    }

    @Test
    void punchingKeepsContentAndSizeAndFreesTheZeroPages() throws IOException {
        BitSet zero = new BitSet();
        int pages = 2048;
        Path file = scratch.write("mem", craft(pages, 0, 22, zero));
        String before = Scratch.sha256(file);
        long allocatedBefore = ZeroPages.allocatedBytes(file);
        assertEquals(allBits(pages), ZeroPages.allocatedPages(file), "written zeros are allocated");

        BitSet punched = ZeroPages.scanAndPunch(file);

        assertEquals(zero, punched);
        assertEquals((long) pages * PAGE, Files.size(file));
        PageCache.drop(file); // read back from disk, not from pages cached before the punch
        assertEquals(before, Scratch.sha256(file));
        BitSet data = allBits(pages);
        data.andNot(zero);
        assertEquals(data, ZeroPages.allocatedPages(file), "exactly the non-zero pages hold data");
        long freed = allocatedBefore - ZeroPages.allocatedBytes(file);
        // ext4 may add an extent-tree block or two for the fragmented file.
        assertTrue(freed >= (long) zero.cardinality() * PAGE - 64 * 1024,
                "freed " + freed + " bytes for " + zero.cardinality() + " zero pages");
    }

    @Test
    void punchedZeroPagesReadBackWithoutDiskReads() throws IOException {
        int pages = 4096; // 16 MiB of zeros
        Path file = scratch.write("zeros", new byte[pages * PAGE]);
        ZeroPages.scanAndPunch(file);
        assertEquals(new BitSet(), ZeroPages.allocatedPages(file));
        PageCache.drop(file);
        ProcessStats.self(); // load and link the /proc reader before measuring
        ProcessStats start = ProcessStats.self();
        assertEquals((long) pages * PAGE, PageCache.touchSequential(file));
        ProcessStats delta = ProcessStats.self().minus(start);
        assertTrue(delta.rchar() >= (long) pages * PAGE, "read " + delta.rchar());
        // Holes are served as zero pages by the file system; a 16 MiB data read would show 16 MiB.
        assertTrue(delta.readBytes() < 1 << 20, "disk reads " + delta.readBytes());
    }

    @Test
    void shortRunsCanBeLeftUnpunched() throws IOException {
        byte[] bytes = new byte[40 * PAGE];
        java.util.Arrays.fill(bytes, (byte) 1);
        java.util.Arrays.fill(bytes, 2 * PAGE, 3 * PAGE, (byte) 0);   // run of 1 zero page
        java.util.Arrays.fill(bytes, 10 * PAGE, 13 * PAGE, (byte) 0); // run of 3
        java.util.Arrays.fill(bytes, 20 * PAGE, 28 * PAGE, (byte) 0); // run of 8
        Path file = scratch.write("mem", bytes);
        String before = Scratch.sha256(file);

        var runs = ZeroPages.punchHoles(file, ZeroPages.scan(file), 3);

        assertEquals(java.util.List.of(new PageRun(10, 3), new PageRun(20, 8)), runs);
        BitSet data = allBits(40);
        data.clear(10, 13);
        data.clear(20, 28);
        assertEquals(data, ZeroPages.allocatedPages(file));
        PageCache.drop(file);
        assertEquals(before, Scratch.sha256(file));
    }

    @Test
    void rescanOfPunchedFileIsUnchanged() throws IOException {
        BitSet zero = new BitSet();
        Path file = scratch.write("mem", craft(1000, 123, 23, zero));
        ZeroPages.scanAndPunch(file);
        assertEquals(zero, ZeroPages.scan(file));
    }

    @Test
    void emptyFileHasNoPages() throws IOException {
        Path file = scratch.write("empty", new byte[0]);
        assertEquals(new BitSet(), ZeroPages.scan(file));
        assertEquals(new BitSet(), ZeroPages.allocatedPages(file));
        assertEquals(0, PageCache.residentCount(file));
    }

    private static BitSet bits(int... pages) {
        BitSet set = new BitSet();
        for (int page : pages) {
            set.set(page);
        }
        return set;
    }

    private static BitSet allBits(int pages) {
        BitSet set = new BitSet();
        set.set(0, pages);
        return set;
    }
}
