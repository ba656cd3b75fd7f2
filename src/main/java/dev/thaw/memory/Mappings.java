package dev.thaw.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a process's memory mappings from {@code /proc/PID/maps}: where a VMM mapped the guest
 * memory file, so pagemap and smaps can be asked about exactly that range.
 *
 * <p>Design: maps is one text line per mapping and is read whole; a VMM has a few hundred
 * mappings, so this costs well under a millisecond. Files are matched by their real path because
 * the kernel prints the resolved path of the mapped file.
 */
public final class Mappings {
    private Mappings() {}

    /** Every mapping of process {@code pid}, in address order. */
    public static List<Mapping> of(long pid) throws IOException {
        List<Mapping> mappings = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "maps"))) {
            mappings.add(parse(line));
        }
        return mappings;
    }

    /** The mappings of {@code file} in process {@code pid} (empty if it maps no part of it). */
    public static List<Mapping> find(long pid, Path file) throws IOException {
        String wanted = Files.exists(file) ? file.toRealPath().toString() : file.toAbsolutePath().normalize().toString();
        List<Mapping> found = new ArrayList<>();
        for (Mapping mapping : of(pid)) {
            if (mapping.path().equals(wanted) || mapping.path().equals(wanted + " (deleted)")) {
                found.add(mapping);
            }
        }
        return found;
    }

    /** Parses {@code start-end perms offset dev inode [path]}; the path may contain spaces. */
    static Mapping parse(String line) {
        String[] f = line.trim().split("\\s+", 6);
        int dash = f[0].indexOf('-');
        long start = Long.parseUnsignedLong(f[0], 0, dash, 16);
        long end = Long.parseUnsignedLong(f[0], dash + 1, f[0].length(), 16);
        long offset = Long.parseUnsignedLong(f[2], 16);
        long inode = Long.parseLong(f[4]);
        String path = f.length > 5 ? f[5] : "";
        return new Mapping(start, end, f[1], offset, inode, path);
    }
}
