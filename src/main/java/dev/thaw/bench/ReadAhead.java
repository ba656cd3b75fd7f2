package dev.thaw.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thaw.vm.HostInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A temporary {@code read_ahead_kb} for the block device that holds the snapshots: how much the
 * kernel reads around each page fault decides how many round trips a vanilla restore makes, so
 * benchmarks compare settings (docs/design.md §4).
 *
 * <p>The setting is machine-wide and outlives the process, so putting the old value back is not
 * optional: {@link #close()} restores it, and a shutdown hook does the same when the JVM exits
 * first (Ctrl-C, an uncaught failure, {@code System.exit}). Whichever runs first wins; the other
 * does nothing.
 */
public final class ReadAhead implements AutoCloseable {
    /** What a report records about the override. */
    public record Setting(@JsonProperty("file") String file, @JsonProperty("kb") int kb,
                          @JsonProperty("previous_kb") int previousKb) {}

    private final Path file;
    private final int previous;
    private final int kb;
    private final AtomicBoolean restored = new AtomicBoolean();
    private final Thread hook;

    private ReadAhead(Path file, int previous, int kb) {
        this.file = file;
        this.previous = previous;
        this.kb = kb;
        this.hook = new Thread(this::restore, "thaw-read-ahead-restore");
    }

    /** The sysfs {@code queue/read_ahead_kb} file of the disk holding {@code path}. */
    public static Path sysfsFile(Path path) {
        try {
            Path dev = HostInfo.blockDevice(path);
            if (dev == null) throw new IllegalArgumentException("--read-ahead-kb: cannot tell which block device holds " + path);
            return dev.resolve("queue/read_ahead_kb");
        } catch (IOException e) {
            throw new IllegalArgumentException("--read-ahead-kb: cannot tell which block device holds " + path + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code kb} to {@code file} (a sysfs read_ahead_kb file) and arranges for the old value to come back. */
    public static ReadAhead set(Path file, int kb) throws IOException {
        if (kb < 0) throw new IllegalArgumentException("--read-ahead-kb must be 0 or more, got " + kb);
        int previous = read(file);
        ReadAhead r = new ReadAhead(file, previous, kb);
        // Hook first: a signal between the write and the registration must not strand the new value.
        Runtime.getRuntime().addShutdownHook(r.hook);
        try {
            Files.writeString(file, kb + "\n");
        } catch (IOException | RuntimeException e) {
            r.restored.set(true); // nothing was changed
            Runtime.getRuntime().removeShutdownHook(r.hook);
            throw new IOException("cannot set read_ahead_kb: writing " + kb + " to " + file + " failed: " + e.getMessage(), e);
        }
        r.checkWritten();
        return r;
    }

    static int read(Path file) throws IOException {
        String s = Files.readString(file).strip();
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold a number: \"" + s + "\"", e);
        }
    }

    /** The block layer may round or cap the value; a report must say what was really used, so say when it differs. */
    private void checkWritten() {
        try {
            int now = read(file);
            if (now != kb) System.err.println("[thaw] wrote read_ahead_kb " + kb + " to " + file + " but it reads back " + now);
        } catch (IOException e) {
            System.err.println("[thaw] cannot read back " + file + ": " + e.getMessage());
        }
    }

    public Setting setting() {
        return new Setting(file.toString(), kb, previous);
    }

    /** Puts the previous value back, once. */
    void restore() {
        if (!restored.compareAndSet(false, true)) return;
        try {
            Files.writeString(file, previous + "\n");
        } catch (IOException e) {
            System.err.println("[thaw] could not restore read_ahead_kb " + previous + " in " + file + ": " + e.getMessage()
                    + " — restore it by hand: echo " + previous + " > " + file);
        }
    }

    /** The shutdown hook, for tests that play the JVM exiting. */
    Thread hook() {
        return hook;
    }

    @Override
    public void close() {
        restore();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is running or has run, and restore() is idempotent.
        }
    }
}
