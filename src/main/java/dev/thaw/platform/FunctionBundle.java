package dev.thaw.platform;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A function's code as deployed: its spec plus every file of its directory (relative path to
 * bytes). Read from a directory or an uploaded tar; written back to the data directory so a
 * daemon restart finds it again.
 */
public record FunctionBundle(FunctionSpec spec, Map<String, byte[]> files) {
    static final long MAX_BYTES = 64L << 20;

    public FunctionBundle {
        if (!files.containsKey("handler.py")) throw new IllegalArgumentException("the function has no handler.py");
        files = Map.copyOf(files);
    }

    public static FunctionBundle fromDirectory(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("not a directory: " + dir);
        Path specFile = dir.resolve("function.json");
        if (!Files.isRegularFile(specFile)) throw new IllegalArgumentException(dir + " has no function.json");
        Map<String, byte[]> files = new TreeMap<>();
        long total = 0;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = dir.relativize(p).toString();
                // A link could make the daemon read (and hand the guest) any file of the host.
                if (Files.isSymbolicLink(p)) {
                    throw new IllegalArgumentException("function " + dir + " contains a symbolic link, " + rel
                            + "; links are not followed: copy the file in instead");
                }
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || rel.contains("__pycache__")) continue;
                byte[] b;
                try (var in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_BYTES - total + 1));
                }
                total += b.length;
                if (total > MAX_BYTES) throw new IllegalArgumentException("function " + dir + " is larger than " + (MAX_BYTES >> 20) + " MiB");
                files.put(rel, b);
            }
            FunctionSpec spec = parseSpec(files.get("function.json"), specFile.toString());
            return new FunctionBundle(spec, files);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    /**
     * Reads an uncompressed tar stream (ustar, pax or GNU, so long names survive), as uploaded
     * with {@code PUT /functions/{name}}. Only regular files are kept; directories, links and
     * device entries are skipped, so nothing unpacked can point outside the function. A name that
     * is absolute or climbs out with a {@code ..} segment is refused, as is a tar whose files add
     * up to more than {@link #MAX_BYTES}. A malformed or truncated tar is an
     * {@link IllegalArgumentException} (the API's 400); an {@link IOException} means the stream
     * itself failed.
     */
    public static FunctionBundle fromTar(InputStream tar) throws IOException {
        return fromTar(tar, MAX_BYTES);
    }

    public static FunctionBundle fromTar(byte[] tar) throws IOException {
        return fromTar(new ByteArrayInputStream(tar));
    }

    /** {@link #fromTar(InputStream)} with {@code maxBytes} for the files' total size (tests use a small one). */
    static FunctionBundle fromTar(InputStream tar, long maxBytes) throws IOException {
        Source source = new Source(tar, 2 * maxBytes);
        Map<String, byte[]> files = new TreeMap<>();
        try {
            TarArchiveInputStream in = new TarArchiveInputStream(source, StandardCharsets.UTF_8.name());
            long total = 0;
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                String name = e.getName();
                while (name.startsWith("./")) name = name.substring(2);
                if (name.isEmpty() || name.equals(".")) continue;
                checkPath(name);
                total += Math.max(0, e.getSize());
                if (total > maxBytes) throw tooLarge(maxBytes);
                if (e.getLinkFlag() != TarConstants.LF_NORMAL && e.getLinkFlag() != TarConstants.LF_OLDNORM) continue;
                if (name.endsWith("/")) continue;
                byte[] data = in.readNBytes((int) e.getSize());
                if (data.length != e.getSize()) throw new IllegalArgumentException("tar ends inside " + name);
                files.put(name, data);
            }
        } catch (IOException e) {
            if (source.failure != null) throw source.failure;
            throw new IllegalArgumentException("not a valid tar: " + e.getMessage(), e);
        }
        if (!files.containsKey("function.json")) throw new IllegalArgumentException("the tar has no function.json at its top level");
        return new FunctionBundle(parseSpec(files.get("function.json"), "function.json"), files);
    }

    private static IllegalArgumentException tooLarge(long maxBytes) {
        String limit = maxBytes % (1 << 20) == 0 ? (maxBytes >> 20) + " MiB" : maxBytes + " bytes";
        return new IllegalArgumentException("tar is larger than the limit of " + limit);
    }

    /** Refuses a name that would land outside the function's directory once unpacked. */
    private static void checkPath(String name) {
        if (name.startsWith("/")) throw new IllegalArgumentException("unsafe path in tar (absolute): " + name);
        for (String segment : name.split("/")) {
            if (segment.equals("..")) throw new IllegalArgumentException("unsafe path in tar (..): " + name);
        }
    }

    /**
     * The upload as the tar reader sees it: stops a stream that goes on far past the size limit
     * (headers such as pax records are read whole, outside the per-file sizes), and remembers
     * a failure of the stream itself so it is not mistaken for a malformed tar.
     */
    private static final class Source extends FilterInputStream {
        private final long limit;
        private long read;
        IOException failure;

        Source(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException e) {
                failure = e;
                throw e;
            }
            if (n > 0 && (read += n) > limit) throw tooLarge(limit / 2);
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] sink = new byte[(int) Math.min(8192, Math.max(1, n))];
            long done = 0;
            while (done < n) {
                int r = read(sink, 0, (int) Math.min(sink.length, n - done));
                if (r < 0) break;
                done += r;
            }
            return done;
        }
    }

    /** Parses the spec strictly; its errors name {@code where} and the field (the API answers them with a 400). */
    private static FunctionSpec parseSpec(byte[] json, String where) {
        return FunctionSpec.parse(new String(json, StandardCharsets.UTF_8), where);
    }

    /** SHA-256 over every file's path and bytes: equal hashes mean the same code is deployed. */
    public String hash() {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            for (var e : new TreeMap<>(files).entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(e.getValue());
                sha.update((byte) 0);
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes every file below {@code dir} (which must not exist yet). */
    public void writeTo(Path dir) {
        try {
            for (var e : files.entrySet()) {
                Path p = dir.resolve(e.getKey()).normalize();
                if (!p.startsWith(dir)) throw new IllegalArgumentException("unsafe path: " + e.getKey());
                Files.createDirectories(p.getParent());
                Files.write(p, e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write function to " + dir, e);
        }
    }
}
