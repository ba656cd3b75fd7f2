package dev.thaw.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The memory accounting of one mapping from {@code /proc/PID/smaps}, in bytes: how much of a
 * VMM's guest memory mapping is resident, shared with the page cache or privately copied.
 *
 * <p>Design: smaps has a block per mapping; the kernel walks the page tables of every mapping to
 * produce it, so one read costs about as much as the process's resident memory is large
 * (milliseconds for a VM). Read it after a run, not in a polling loop; poll {@link ProcessStats}
 * instead. Only the {@code Key: N kB} lines are kept.
 *
 * @param mapping the mapping these values describe
 * @param values  every {@code kB} field by its name (e.g. "Rss", "Private_Dirty"), in bytes
 */
public record Smaps(Mapping mapping, Map<String, Long> values) {
    private static final Pattern HEADER = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    /** The smaps block of {@code mapping} in process {@code pid}. */
    public static Smaps of(long pid, Mapping mapping) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps"));
        Map<String, Long> values = null;
        for (String line : lines) {
            if (isHeader(line)) {
                if (values != null) {
                    break; // the block we wanted has ended
                }
                Mapping header = Mappings.parse(line);
                if (header.start() == mapping.start() && header.end() == mapping.end()) {
                    values = new LinkedHashMap<>();
                }
            } else if (values != null && line.endsWith(" kB")) {
                int colon = line.indexOf(':');
                long kb = Long.parseLong(line.substring(colon + 1, line.length() - 3).trim());
                values.put(line.substring(0, colon), kb * 1024);
            }
        }
        if (values == null) {
            throw new IOException("process " + pid + " has no mapping at " + Long.toHexString(mapping.start()));
        }
        return new Smaps(mapping, Map.copyOf(values));
    }

    /** A header line starts with the address range, e.g. {@code 7f12a000-7f12b000 r--s ...}. */
    private static boolean isHeader(String line) {
        return HEADER.matcher(line).lookingAt();
    }

    /** A field in bytes, 0 if the kernel does not report it. */
    public long get(String field) {
        return values.getOrDefault(field, 0L);
    }

    public long rss() {
        return get("Rss");
    }

    public long pss() {
        return get("Pss");
    }

    public long sharedClean() {
        return get("Shared_Clean");
    }

    public long sharedDirty() {
        return get("Shared_Dirty");
    }

    public long privateClean() {
        return get("Private_Clean");
    }

    public long privateDirty() {
        return get("Private_Dirty");
    }

    public long anonymous() {
        return get("Anonymous");
    }

    public long swap() {
        return get("Swap");
    }
}
