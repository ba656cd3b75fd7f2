package dev.thaw.platform;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** Uploaded tars, built in memory the way real tools write them, against FunctionBundle's reader. */
class FunctionBundleTest {
    private static final byte[] SPEC = "{\"name\": \"f\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HANDLER = "def handle(e):\n    return {}\n".getBytes(StandardCharsets.UTF_8);
    /** Longer than the 100 bytes a plain ustar name field holds, and than ustar's 155-byte prefix too. */
    private static final String LONG = "lib/" + "a".repeat(120) + "/" + "b".repeat(120) + "/module.py";

    /** One tar entry: a file, or a link when {@code linkFlag} says so. */
    private record Entry(String name, byte[] data, byte linkFlag, String linkTarget) {
        static Entry file(String name, byte[] data) {
            return new Entry(name, data, TarConstants.LF_NORMAL, null);
        }

        static Entry file(String name, String text) {
            return file(name, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static byte[] tar(int longFileMode, Entry... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(longFileMode);
            out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Entry e : entries) {
                // preserveAbsolutePath: the entry is written with exactly the name the test gives.
                TarArchiveEntry t = e.linkTarget() == null ? new TarArchiveEntry(e.name(), true)
                        : new TarArchiveEntry(e.name(), e.linkFlag(), true);
                if (e.linkTarget() != null) t.setLinkName(e.linkTarget());
                else t.setSize(e.data().length);
                out.putArchiveEntry(t);
                if (e.linkTarget() == null) out.write(e.data());
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] tar(Entry... entries) throws IOException {
        return tar(TarArchiveOutputStream.LONGFILE_ERROR, entries);
    }

    private static Entry[] withFunction(Entry... more) {
        Entry[] all = Arrays.copyOf(new Entry[]{Entry.file("function.json", SPEC), Entry.file("handler.py", HANDLER)}, 2 + more.length);
        System.arraycopy(more, 0, all, 2, more.length);
        return all;
    }

    private static String rejected(byte[] tar) {
        return assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromTar(tar)).getMessage();
    }

    @Test
    void plainTarGivesItsFiles() throws IOException {
        FunctionBundle b = FunctionBundle.fromTar(tar(withFunction(Entry.file("./data/x.txt", "x"))));
        assertEquals("f", b.spec().name());
        assertEquals(java.util.Set.of("function.json", "handler.py", "data/x.txt"), b.files().keySet());
        assertArrayEquals(HANDLER, b.files().get("handler.py"));
    }

    @Test
    void paxLongNameIsKept() throws IOException {
        byte[] t = tar(TarArchiveOutputStream.LONGFILE_POSIX, withFunction(Entry.file(LONG, "pax")));
        assertEquals("pax", new String(FunctionBundle.fromTar(t).files().get(LONG), StandardCharsets.UTF_8));
    }

    @Test
    void gnuLongNameIsKept() throws IOException {
        byte[] t = tar(TarArchiveOutputStream.LONGFILE_GNU, withFunction(Entry.file(LONG, "gnu")));
        assertEquals("gnu", new String(FunctionBundle.fromTar(t).files().get(LONG), StandardCharsets.UTF_8));
    }

    @Test
    void paxLongNameThatClimbsOutIsRejected() throws IOException {
        String climbing = "a".repeat(120) + "/../../" + "b".repeat(60) + ".py";
        assertTrue(rejected(tar(TarArchiveOutputStream.LONGFILE_POSIX, withFunction(Entry.file(climbing, "x"))))
                .contains("unsafe path in tar"));
    }

    @Test
    void parentDirectoryEntryIsRejected() throws IOException {
        String msg = rejected(tar(withFunction(Entry.file("../evil.py", "x"))));
        assertTrue(msg.contains("unsafe path in tar") && msg.contains("../evil.py"), msg);
        assertTrue(rejected(tar(withFunction(Entry.file("lib/../../evil.py", "x")))).contains("unsafe path in tar"));
    }

    @Test
    void dotsInsideANameAreFine() throws IOException {
        assertTrue(FunctionBundle.fromTar(tar(withFunction(Entry.file("lib/v1..2.py", "x")))).files().containsKey("lib/v1..2.py"));
    }

    @Test
    void absolutePathIsRejected() throws IOException {
        String msg = rejected(tar(withFunction(Entry.file("/etc/cron.d/evil", "x"))));
        assertTrue(msg.contains("unsafe path in tar") && msg.contains("/etc/cron.d/evil"), msg);
    }

    @Test
    void linksAreSkipped() throws IOException {
        FunctionBundle b = FunctionBundle.fromTar(tar(withFunction(
                new Entry("passwd", null, TarConstants.LF_SYMLINK, "/etc/passwd"),
                new Entry("hard", null, TarConstants.LF_LINK, "handler.py"))));
        assertEquals(java.util.Set.of("function.json", "handler.py"), b.files().keySet());
        // A link cannot stand in for a file the function needs.
        String msg = rejected(tar(Entry.file("function.json", SPEC), new Entry("handler.py", null, TarConstants.LF_SYMLINK, "/etc/passwd")));
        assertTrue(msg.contains("handler.py"), msg);
    }

    @Test
    void oversizedUploadIsRejected() throws IOException {
        // Two files that fit the limit alone but not together.
        byte[] t = tar(withFunction(Entry.file("a.bin", new byte[3000]), Entry.file("b.bin", new byte[3000])));
        String msg = assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromTar(new ByteArrayInputStream(t), 4096)).getMessage();
        assertEquals("tar is larger than the limit of 4096 bytes", msg);
        assertEquals(4, FunctionBundle.fromTar(new ByteArrayInputStream(t), 8192).files().size());
    }

    @Test
    void uploadFarLargerThanItsFilesIsStopped() throws IOException {
        // A pax header is read whole before any file; its bytes count against the stream's cap.
        TarArchiveEntry e = new TarArchiveEntry("handler.py");
        e.addPaxHeader("comment", "x".repeat(20_000));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            e.setSize(HANDLER.length);
            out.putArchiveEntry(e);
            out.write(HANDLER);
            out.closeArchiveEntry();
        }
        String msg = assertThrows(IllegalArgumentException.class,
                () -> FunctionBundle.fromTar(new ByteArrayInputStream(bytes.toByteArray()), 4096)).getMessage();
        assertTrue(msg.contains("larger than the limit"), msg);
    }

    @Test
    void truncatedOrGarbageTarIsABadRequest() throws IOException {
        byte[] whole = tar(withFunction(Entry.file("data.bin", new byte[4096])));
        byte[] cut = Arrays.copyOf(whole, 512 * 5 + 100); // three headers, two data blocks, then 100 bytes of data.bin
        assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromTar(cut));
        byte[] garbage = "this is not a tar at all".repeat(50).getBytes(StandardCharsets.UTF_8);
        assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromTar(garbage));
    }

    @Test
    void aFailingStreamStaysAnIOException() throws IOException {
        byte[] t = tar(withFunction());
        InputStream failing = new InputStream() {
            int served;

            @Override
            public int read() throws IOException {
                if (served >= 700) throw new IOException("connection reset");
                return t[served++] & 0xff;
            }
        };
        assertEquals("connection reset", assertThrows(IOException.class, () -> FunctionBundle.fromTar(failing)).getMessage());
    }

    @Test
    void tarWithoutSpecOrWithABadSpecIsRejected() throws IOException {
        assertTrue(rejected(tar(Entry.file("handler.py", HANDLER))).contains("no function.json"));
        assertEquals("unknown field \"min_wram\" in function.json; did you mean \"min_warm\"?",
                rejected(tar(Entry.file("function.json", "{\"name\": \"f\", \"min_wram\": 1}"), Entry.file("handler.py", HANDLER))));
    }

    @Test
    void aDirectoryWithASymbolicLinkIsRefusedAndTheLinkNeverRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws IOException {
        java.nio.file.Path secret = java.nio.file.Files.writeString(tmp.resolve("secret"), "host-only");
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve("f"));
        java.nio.file.Files.writeString(dir.resolve("function.json"), "{\"name\": \"f\"}");
        java.nio.file.Files.writeString(dir.resolve("handler.py"), "def handle(e):\n    return open('data').read()\n");
        java.nio.file.Files.createSymbolicLink(dir.resolve("data"), secret);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromDirectory(dir));
        assertTrue(e.getMessage().contains("symbolic link, data"), e.getMessage());
        java.nio.file.Files.delete(dir.resolve("data"));
        java.nio.file.Files.createSymbolicLink(dir.resolve("lib"), tmp); // a linked directory too
        assertThrows(IllegalArgumentException.class, () -> FunctionBundle.fromDirectory(dir));
    }
}
