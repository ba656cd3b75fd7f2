package dev.thaw.snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A file's whole CRC32C and its per-chunk CRC32Cs, computed in one sequential read, as the
 * manifest records them.
 *
 * <p>Why CRC32C per 1 MiB: the threat is a damaged transfer between cluster peers that already
 * trust each other (they share the API token), which is also what the whole-file CRC32C guards
 * against; CRC32C is hardware-accelerated (a 1 MiB chunk checks in well under a millisecond, several
 * times faster than SHA-256 in the JDK, on the fetch's critical path), detects every burst
 * error of up to 32 bits and all but ~2^-32 of the rest. A cryptographic hash would only add
 * something against a malicious peer, which the token already keeps out. 1 MiB keeps a 256 MiB memory file's list at 256 entries (~3 KB of
 * manifest) while a demanded chunk costs one ~1 ms request on a LAN.
 */
public final class Checksums {
    /** The chunk size new snapshots record for their memory files. */
    public static final int CHUNK = 1 << 20;

    private Checksums() {}

    /** The whole-file CRC32C and the chunks' (of {@code chunkSize} bytes), as 8 hex digits each. */
    public record Sums(String whole, Manifest.Chunks chunks) {}

    public static Sums of(Path file, int chunkSize) {
        CRC32C whole = new CRC32C();
        CRC32C chunk = new CRC32C();
        List<String> chunks = new ArrayList<>();
        byte[] buf = new byte[chunkSize];
        try (InputStream in = Files.newInputStream(file)) {
            while (true) {
                int n = in.readNBytes(buf, 0, chunkSize);
                if (n <= 0) break;
                whole.update(buf, 0, n);
                chunk.reset();
                chunk.update(buf, 0, n);
                chunks.add(hex(chunk.getValue()));
                if (n < chunkSize) break;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return new Sums(hex(whole.getValue()), new Manifest.Chunks(chunkSize, chunks));
    }

    /** The whole file's CRC32C, as 8 hex digits (what the manifest records for a file without chunks). */
    public static String crc32c(Path file) {
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) > 0) {
                buf.flip();
                crc.update(buf);
                buf.clear();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return hex(crc.getValue());
    }

    /** The CRC32C of {@code length} bytes of {@code data} from {@code offset}, as 8 hex digits. */
    public static String crc32c(byte[] data, int offset, int length) {
        CRC32C c = new CRC32C();
        c.update(data, offset, length);
        return hex(c.getValue());
    }

    static String hex(long crc) {
        return HexFormat.of().toHexDigits((int) crc);
    }
}
