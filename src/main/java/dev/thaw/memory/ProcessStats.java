package dev.thaw.memory;

import dev.thaw.sys.Native;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Page-fault, memory and read counters of one process, from {@code /proc/PID/stat} and
 * {@code /proc/PID/io}: the cheap way to see how a restore loaded its memory (major faults =
 * faults that waited for disk; read_bytes = bytes the process made the block layer read).
 *
 * <p>Design: two small text files, read and parsed in a few microseconds, so a recorder can poll
 * every few milliseconds. The stat line is split after the last ')' because the command name
 * may itself contain spaces and parentheses. Counters cover all threads of the process. Another
 * process's io file needs ptrace rights (thaw runs as root).
 *
 * @param pid          the process
 * @param minorFaults  faults served without I/O (stat field 10, minflt)
 * @param majorFaults  faults that waited for I/O (stat field 12, majflt)
 * @param rssBytes     resident set size (stat field 24, in pages, times the page size)
 * @param rchar        bytes passed to read-like system calls, cached or not (io: rchar)
 * @param readBytes    bytes the process caused to be read from storage (io: read_bytes)
 */
public record ProcessStats(long pid, long minorFaults, long majorFaults, long rssBytes, long rchar, long readBytes) {

    /** Current counters of process {@code pid}. */
    public static ProcessStats of(long pid) throws IOException {
        Path proc = Path.of("/proc", Long.toString(pid));
        String stat = Files.readString(proc.resolve("stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        // fields[0] is stat field 3 (state), so field n is fields[n - 3].
        long minflt = Long.parseLong(fields[10 - 3]);
        long majflt = Long.parseLong(fields[12 - 3]);
        long rssPages = Long.parseLong(fields[24 - 3]);
        long rchar = -1;
        long readBytes = -1;
        for (String line : Files.readAllLines(proc.resolve("io"))) {
            if (line.startsWith("rchar:")) {
                rchar = Long.parseLong(line.substring(6).trim());
            } else if (line.startsWith("read_bytes:")) {
                readBytes = Long.parseLong(line.substring(11).trim());
            }
        }
        return new ProcessStats(pid, minflt, majflt, rssPages * Native.PAGE_SIZE, rchar, readBytes);
    }

    /** Counters of the calling process (the JVM). */
    public static ProcessStats self() throws IOException {
        return of(ProcessHandle.current().pid());
    }

    /** What happened between {@code earlier} and this sample (rss is the difference too). */
    public ProcessStats minus(ProcessStats earlier) {
        return new ProcessStats(pid, minorFaults - earlier.minorFaults, majorFaults - earlier.majorFaults,
                rssBytes - earlier.rssBytes, rchar - earlier.rchar, readBytes - earlier.readBytes);
    }
}
