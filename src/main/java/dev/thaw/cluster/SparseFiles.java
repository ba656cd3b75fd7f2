package dev.thaw.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** File helpers of the snapshot fetch: writing and copying with all-zero pages left as holes. */
final class SparseFiles {
    private static final int PAGE = 4096;
    private static final int BUFFER = 8 << 20;

    private SparseFiles() {}

    /** Copies {@code from} to {@code to} leaving zero pages as holes. */
    static void copy(Path from, Path to) throws IOException {
        try (FileChannel in = FileChannel.open(from); FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            long size = in.size();
            byte[] buf = new byte[BUFFER];
            for (long off = 0; off < size; off += BUFFER) {
                int n = (int) Math.min(BUFFER, size - off);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining() && in.read(bb, off + bb.position()) > 0) { /* read on */ }
                for (int at = 0; at < n; at += PAGE) {
                    int k = Math.min(PAGE, n - at);
                    if (!zero(buf, at, k)) out.write(ByteBuffer.wrap(buf, at, k), off + at);
                }
            }
            if (out.size() < size) out.write(ByteBuffer.wrap(new byte[1]), size - 1);
            out.force(true);
        }
    }

    static boolean zero(byte[] b, int from, int n) {
        for (int i = from; i < from + n; i++) if (b[i] != 0) return false;
        return true;
    }

    /** Writes {@code length} bytes of {@code data} from {@code at} to the file at {@code offset}, all-zero pages left as holes. */
    static void write(FileChannel ch, byte[] data, int at, int length, long offset) throws IOException {
        for (int i = 0; i < length; i += PAGE) {
            int n = Math.min(PAGE, length - i);
            if (!zero(data, at + i, n)) ch.write(ByteBuffer.wrap(data, at + i, n), offset + i);
        }
    }
}
