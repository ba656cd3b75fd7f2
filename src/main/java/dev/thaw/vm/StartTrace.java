package dev.thaw.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An opt-in timeline of one QEMU start, for finding where {@code vmm_start} goes: with
 * {@code THAW_JAIL_TRACE=1} in the daemon's environment, {@link QemuGuest} marks its own steps
 * (jail cell entered, process spawned, QMP and agent sockets accepted) and the jailer writes one
 * line per step to QEMU's log ({@code thaw-jailer-trace: STEP MONOTONIC_US DELTA_US}). Both clocks
 * are {@code CLOCK_MONOTONIC} ({@link System#nanoTime} on Linux), so once QEMU is connected the
 * two merge into one INFO line, in µs since the start began:
 * {@code start trace i-…: cell +310 spawned +2900 jailer:start +2100 … qmp +140000 agent +140100}.
 * The run directory (and the log) is deleted with the VM, hence the log line. Off, each mark is
 * one boolean test.
 */
final class StartTrace {
    private static final System.Logger LOG = System.getLogger(StartTrace.class.getName());
    static final boolean ENABLED = "1".equals(System.getenv("THAW_JAIL_TRACE"));

    private record Mark(String step, long nanos) {}

    private final long t0 = System.nanoTime();
    private final List<Mark> marks = ENABLED ? new ArrayList<>() : List.of();

    void mark(String step) {
        if (ENABLED) marks.add(new Mark(step, System.nanoTime()));
    }

    /** Marks {@code step} as done now and passes its result through. */
    <T> T marked(String step, T result) {
        mark(step);
        return result;
    }

    /** Logs the merged timeline of {@code id}, reading the jailer's lines from {@code qemuLog}. */
    void log(String id, Path qemuLog) {
        if (!ENABLED) return;
        List<Mark> all = new ArrayList<>(marks);
        all.addAll(jailerSteps(qemuLog));
        all.sort(Comparator.comparingLong(Mark::nanos));
        StringBuilder s = new StringBuilder("start trace ").append(id).append(" (µs since the start began):");
        for (Mark m : all) s.append(' ').append(m.step()).append(" +").append((m.nanos() - t0) / 1000);
        LOG.log(System.Logger.Level.INFO, s.toString());
    }

    /** The jailer's trace lines, as marks on the same clock; malformed lines are skipped (QEMU writes there too). */
    private static List<Mark> jailerSteps(Path qemuLog) {
        List<Mark> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(qemuLog)) {
                String[] f = line.split(" ");
                if (f.length != 4 || !f[0].equals("thaw-jailer-trace:")) continue;
                try {
                    out.add(new Mark("jailer:" + f[1], Long.parseLong(f[2]) * 1000));
                } catch (NumberFormatException ignored) {
                    // not one of the jailer's lines
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read the jailer's trace from " + qemuLog + ": " + e);
        }
        return out;
    }
}
