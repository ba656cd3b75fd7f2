package dev.thaw.cluster;

import dev.thaw.platform.FunctionBundle;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Code bundles as etcd values: a tar of the function's files (the same format {@code PUT
 * /functions/{name}} accepts), base64, keyed by the bundle's hash so a redeploy of the same
 * code stores nothing new. Functions are small (hello is a few KiB); etcd refuses values over
 * 1.5 MiB, which is then a clear deploy-time error on the announcing node.
 */
final class Bundles {
    private Bundles() {}

    static String encode(FunctionBundle bundle) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> f : new TreeMap<>(bundle.files()).entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    /** Decodes a bundle and checks it is the one {@code hash} names. */
    static FunctionBundle decode(String value, String hash) {
        try {
            FunctionBundle b = FunctionBundle.fromTar(Base64.getDecoder().decode(value));
            if (!b.hash().equals(hash)) throw new IllegalStateException("bundle " + hash + " in etcd hashes to " + b.hash());
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("bundle " + hash + " in etcd is not a readable tar", e);
        }
    }
}
