package dev.thaw.memory;

import dev.thaw.sys.Native;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The /proc readers, checked against mappings this test creates in its own process. */
class ProcTest {
    private static final int PAGE = Scratch.PAGE;
    private static final long PID = ProcessHandle.current().pid();
    private static final int[] TOUCHED = {0, 3, 17, 18, 40, 63};

    private final Scratch scratch = new Scratch();

    @AfterEach
    void cleanUp() throws IOException {
        scratch.close();
    }

    private static BitSet touched() {
        BitSet set = new BitSet();
        for (int page : TOUCHED) {
            set.set(page);
        }
        return set;
    }

    @Test
    void pagemapOfAnonymousMappingShowsExactlyTheWrittenPages() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = Native.mmapAnonymous(arena, 64L * PAGE, Native.PROT_READ | Native.PROT_WRITE);
            // No transparent huge page may back the region, or one write would populate 512 pages.
            Native.madvise(region, Native.MADV_NOHUGEPAGE);
            assertEquals(new BitSet(), Pagemap.present(PID, region.address(), region.byteSize()));
            for (int page : TOUCHED) {
                region.set(JAVA_BYTE, (long) page * PAGE + 5, (byte) 1);
            }
            assertEquals(touched(), Pagemap.present(PID, region.address(), region.byteSize()));
        }
    }

    @Test
    void privateFileMappingIsFoundAndItsWrittenPagesAreExact() throws IOException {
        // As a VMM restoring with share=off: the memory file mapped private, guest writes copy pages.
        Path file = scratch.randomFile("mem", 80, 31);
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY); Arena arena = Arena.ofConfined()) {
            MemorySegment region = Native.mmap(arena, fd, 8L * PAGE, 64L * PAGE,
                    Native.PROT_READ | Native.PROT_WRITE, Native.MAP_PRIVATE);

            List<Mapping> found = Mappings.find(PID, file);
            assertEquals(1, found.size(), found.toString());
            Mapping mapping = found.getFirst();
            assertEquals(region.address(), mapping.start());
            assertEquals(region.address() + 64L * PAGE, mapping.end());
            assertEquals(8L * PAGE, mapping.offset());
            assertEquals("rw-p", mapping.perms());
            assertFalse(mapping.shared());
            assertEquals(file.toRealPath().toString(), mapping.path());

            assertEquals(new BitSet(), Pagemap.present(PID, mapping));
            assertEquals(0, Smaps.of(PID, mapping).rss());

            for (int page : TOUCHED) {
                region.set(JAVA_BYTE, (long) page * PAGE, (byte) 7); // write fault: private copy
            }
            assertEquals(touched(), Pagemap.present(PID, mapping));
            Smaps smaps = Smaps.of(PID, mapping);
            long bytes = (long) TOUCHED.length * PAGE;
            assertEquals(bytes, smaps.rss());
            assertEquals(bytes, smaps.privateDirty());
            assertEquals(bytes, smaps.anonymous());
            assertEquals(64L * PAGE, smaps.get("Size"));
        }
        assertEquals(List.of(), Mappings.find(PID, file), "unmapped when the arena closed");
    }

    @Test
    void readFaultsOnADroppedFileAreMajorFaultsAndDiskReads() throws IOException {
        Path file = scratch.randomFile("mem", 2048, 32);
        PageCache.drop(file);
        ProcessStats.self(); // load and link the reader before measuring
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY); Arena arena = Arena.ofConfined()) {
            MemorySegment region = Native.mmap(arena, fd, 0, 2048L * PAGE, Native.PROT_READ, Native.MAP_SHARED);
            ProcessStats before = ProcessStats.self();
            long sum = 0;
            for (long page = 0; page < 2048; page += 256) {
                sum += region.get(JAVA_BYTE, page * PAGE); // each touch is a page fault
            }
            ProcessStats delta = ProcessStats.self().minus(before);
            assertTrue(delta.majorFaults() >= 1, "major faults " + delta.majorFaults() + " (sum " + sum + ")");
            assertTrue(delta.readBytes() >= PAGE, "disk reads " + delta.readBytes());
        }
    }

    @Test
    void readingADroppedFileCountsCharsAndDiskBytes() throws IOException {
        Path file = scratch.randomFile("mem", 2048, 33); // 8 MiB
        PageCache.drop(file);
        ProcessStats.self();
        ProcessStats before = ProcessStats.self();
        PageCache.touchSequential(file);
        ProcessStats delta = ProcessStats.self().minus(before);
        assertTrue(delta.rchar() >= 2048L * PAGE, "rchar " + delta.rchar());
        assertTrue(delta.readBytes() >= 2048L * PAGE, "read_bytes " + delta.readBytes());
        // Cached now: the same read again costs no disk I/O from this file.
        ProcessStats again = ProcessStats.self();
        PageCache.touchSequential(file);
        assertTrue(ProcessStats.self().minus(again).readBytes() < 2048L * PAGE);
    }

    @Test
    void minorFaultsAndRssGrowWhenAnonymousMemoryIsTouched() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = Native.mmapAnonymous(arena, 1024L * PAGE, Native.PROT_READ | Native.PROT_WRITE);
            Native.madvise(region, Native.MADV_NOHUGEPAGE);
            ProcessStats before = ProcessStats.self();
            for (long page = 0; page < 1024; page++) {
                region.set(JAVA_BYTE, page * PAGE, (byte) 1);
            }
            ProcessStats after = ProcessStats.self();
            assertTrue(after.minorFaults() - before.minorFaults() >= 1024,
                    "minor faults " + (after.minorFaults() - before.minorFaults()));
            assertEquals(PID, after.pid());
            assertTrue(after.rssBytes() > 0);
        }
    }

    @Test
    void mapsLinesParseIncludingPathsWithSpaces() {
        Mapping m = Mappings.parse("7f0000001000-7f0000003000 r--s 00002000 fe:00 1234     /var/tmp/a b (deleted)");
        assertEquals(0x7f0000001000L, m.start());
        assertEquals(0x2000, m.length());
        assertEquals(0x2000, m.offset());
        assertEquals(1234, m.inode());
        assertTrue(m.shared());
        assertEquals("/var/tmp/a b (deleted)", m.path());
        assertTrue(m.contains(0x7f0000002fffL));
        assertFalse(m.contains(0x7f0000003000L));
        assertEquals("", Mappings.parse("7ffd0000-7ffd1000 rw-p 00000000 00:00 0").path());
    }
}
