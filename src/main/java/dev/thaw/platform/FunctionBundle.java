package dev.thaw.platform;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                String rel = dir.relativize(p).toString();
                if (rel.contains("__pycache__")) continue;
                byte[] b = Files.readAllBytes(p);
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

    /** Reads an uncompressed (ustar/GNU) tar stream, as uploaded with {@code PUT /functions/{name}}. */
    public static FunctionBundle fromTar(InputStream tar) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        long total = 0;
        byte[] header = new byte[512];
        while (tar.readNBytes(header, 0, 512) == 512) {
            if (header[0] == 0) break; // end-of-archive block
            String name = cString(header, 0, 100);
            String prefix = cString(header, 345, 155);
            if (!prefix.isEmpty() && header[257] == 'u') name = prefix + "/" + name;
            long size = Long.parseLong(cString(header, 124, 12).trim().isEmpty() ? "0" : cString(header, 124, 12).trim(), 8);
            char type = (char) header[156];
            total += size;
            if (total > MAX_BYTES) throw new IllegalArgumentException("tar is larger than " + (MAX_BYTES >> 20) + " MiB");
            byte[] data = tar.readNBytes((int) size);
            if (data.length != size) throw new IllegalArgumentException("tar ends inside " + name);
            tar.skipNBytes((512 - size % 512) % 512);
            while (name.startsWith("./")) name = name.substring(2);
            if ((type == '0' || type == 0) && !name.isEmpty() && !name.endsWith("/")) {
                if (name.startsWith("/") || name.contains("..")) throw new IllegalArgumentException("unsafe path in tar: " + name);
                files.put(name, data);
            }
        }
        if (!files.containsKey("function.json")) throw new IllegalArgumentException("the tar has no function.json at its top level");
        return new FunctionBundle(parseSpec(files.get("function.json"), "function.json"), files);
    }

    public static FunctionBundle fromTar(byte[] tar) throws IOException {
        return fromTar(new ByteArrayInputStream(tar));
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static FunctionSpec parseSpec(byte[] json, String where) {
        try {
            return FunctionSpec.parse(new String(json, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
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
