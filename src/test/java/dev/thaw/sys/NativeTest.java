package dev.thaw.sys;

import dev.thaw.memory.Scratch;


import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeTest {
    private final Scratch scratch = new Scratch();

    @AfterEach
    void cleanUp() throws IOException {
        scratch.close();
    }

    @Test
    void openOfMissingFileNamesCallFileAndErrno() {
        Path missing = scratch.dir().resolve("no-such-file");
        NativeException e = assertThrows(NativeException.class, () -> Native.open(missing, Native.O_RDONLY));
        assertEquals(Native.ENOENT, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("open", e.call());
        assertEquals("open(" + missing + "): ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void callsOnABadDescriptorFailWithEbadf() {
        Path file = scratch.dir().resolve("f");
        Native.Fd bad = new Native.Fd(-1, file);
        NativeException fsync = assertThrows(NativeException.class, () -> Native.fsync(bad));
        assertEquals(Native.EBADF, fsync.errno());
        assertEquals("fsync(" + file + "): EBADF (Bad file descriptor)", fsync.getMessage());
        // posix_fadvise reports its error as a return value, not through errno: same exception.
        NativeException fadvise = assertThrows(NativeException.class,
                () -> Native.fadvise(bad, 0, 0, Native.POSIX_FADV_DONTNEED));
        assertEquals(Native.EBADF, fadvise.errno());
        assertEquals("posix_fadvise(" + file + "): EBADF (Bad file descriptor)", fadvise.getMessage());
    }

    @Test
    void closedDescriptorIsNeverPassedToTheKernelAgain() throws IOException {
        Path file = scratch.randomFile("f", 1, 1);
        Native.Fd fd = Native.open(file, Native.O_RDONLY);
        fd.close();
        fd.close(); // harmless: the number may already belong to another file
        assertThrows(IllegalStateException.class, () -> Native.fsync(fd));
    }

    @Test
    void fallocateOnReadOnlyDescriptorAndBadMmapAreReported() throws IOException {
        Path file = scratch.randomFile("f", 4, 2);
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY); Arena arena = Arena.ofConfined()) {
            NativeException punch = assertThrows(NativeException.class, () -> Native.fallocate(fd,
                    Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, 0, Native.PAGE_SIZE));
            assertEquals(Native.EBADF, punch.errno());
            NativeException map = assertThrows(NativeException.class,
                    () -> Native.mmap(arena, fd, 0, 0, Native.PROT_READ, Native.MAP_SHARED));
            assertEquals(Native.EINVAL, map.errno());
            assertTrue(map.getMessage().startsWith("mmap(" + file + "): EINVAL"), map.getMessage());
        }
    }

    @Test
    void directPreadIntoAlignedBufferReturnsFileContent() throws IOException {
        Path file = scratch.randomFile("f", 16, 3);
        byte[] expected = Files.readAllBytes(file);
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY | Native.O_DIRECT); Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(8 * Native.PAGE_SIZE, Native.PAGE_SIZE);
            assertEquals(8 * Native.PAGE_SIZE, Native.readFully(fd, buffer, 4 * Native.PAGE_SIZE));
            assertArrayEquals(Arrays.copyOfRange(expected, 4 * Native.PAGE_SIZE, 12 * Native.PAGE_SIZE),
                    buffer.toArray(JAVA_BYTE));
            // Past the end: a short read, then 0.
            assertEquals(4 * Native.PAGE_SIZE, Native.readFully(fd, buffer, 12 * Native.PAGE_SIZE));
            assertEquals(0, Native.pread(fd, buffer, 16 * Native.PAGE_SIZE));
        }
    }

    @Test
    void directPreadWithUnalignedBufferFailsWithEinval() throws IOException {
        Path file = scratch.randomFile("f", 4, 4);
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY | Native.O_DIRECT); Arena arena = Arena.ofConfined()) {
            MemorySegment unaligned = arena.allocate(2 * Native.PAGE_SIZE, Native.PAGE_SIZE).asSlice(1, Native.PAGE_SIZE);
            NativeException e = assertThrows(NativeException.class, () -> Native.pread(fd, unaligned, 0));
            assertEquals(Native.EINVAL, e.errno());
        }
    }

    @Test
    void mmapSegmentHasMappedSizeAndSeesFileBytes() throws IOException {
        Path file = scratch.randomFile("f", 8, 5);
        byte[] expected = Files.readAllBytes(file);
        MemorySegment mapping;
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY); Arena arena = Arena.ofConfined()) {
            mapping = Native.mmap(arena, fd, 2L * Native.PAGE_SIZE, 3L * Native.PAGE_SIZE,
                    Native.PROT_READ, Native.MAP_SHARED);
            assertEquals(3L * Native.PAGE_SIZE, mapping.byteSize());
            assertEquals(0, mapping.address() % Native.PAGE_SIZE);
            assertArrayEquals(Arrays.copyOfRange(expected, 2 * Native.PAGE_SIZE, 5 * Native.PAGE_SIZE),
                    mapping.toArray(JAVA_BYTE));
        }
        // The arena closed and unmapped it: access fails in Java rather than crashing.
        assertThrows(IllegalStateException.class, () -> mapping.get(JAVA_BYTE, 0));
    }

    @Test
    void fstatReportsSizeAndAllocation() throws IOException {
        Path file = scratch.randomFile("f", 8, 6);
        try (Native.Fd fd = Native.open(file, Native.O_RDONLY)) {
            Native.FileStat stat = Native.fstat(fd);
            assertEquals(8L * Native.PAGE_SIZE, stat.size());
            assertTrue(stat.allocatedBytes() >= 8L * Native.PAGE_SIZE, "allocated " + stat.allocatedBytes());
        }
    }

    @Test
    void errnoNamesAndTexts() {
        assertEquals("EOPNOTSUPP", Native.errnoName(Native.EOPNOTSUPP));
        assertEquals("Operation not supported", Native.strerror(Native.EOPNOTSUPP));
        assertEquals("errno 4242", Native.errnoName(4242));
    }
}
