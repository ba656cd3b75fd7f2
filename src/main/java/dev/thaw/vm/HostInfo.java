package dev.thaw.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Facts about the host that VMs and benchmark reports need. */
public final class HostInfo {
    private static volatile long tscKhz;

    private HostInfo() {}

    /**
     * The host TSC frequency in kHz, passed to the guest as {@code tsc_early_khz}: without it the
     * microvm guest calibrates the TSC itself and hangs in about one boot of six (docs/design.md §4).
     */
    public static long tscKhz() {
        if (tscKhz == 0) {
            try {
                Matcher m = Pattern.compile("cpu MHz\\s*:\\s*([0-9.]+)").matcher(Files.readString(Path.of("/proc/cpuinfo")));
                tscKhz = m.find() ? Math.round(Double.parseDouble(m.group(1)) * 1000) : 2_000_000;
            } catch (IOException e) {
                tscKhz = 2_000_000;
            }
        }
        return tscKhz;
    }

    public static int cpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    public static String kernel() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    /** read_ahead_kb of the block device holding {@code path}: it decides how much each major fault reads. */
    public static int readAheadKb(Path path) {
        try {
            Path dev = blockDevice(path);
            return dev == null ? -1 : Integer.parseInt(Files.readString(dev.resolve("queue/read_ahead_kb")).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** The sysfs directory of the whole disk that holds {@code path}, or null if unknown. */
    public static Path blockDevice(Path path) throws IOException {
        Path p = path.toAbsolutePath();
        while (p != null && !Files.exists(p)) p = p.getParent();
        if (p == null) return null;
        Object dev = Files.getAttribute(p, "unix:dev");
        long d = ((Number) dev).longValue();
        long major = (d >>> 8) & 0xfff, minor = (d & 0xff) | ((d >>> 12) & 0xfff00);
        Path sys = Path.of("/sys/dev/block/" + major + ":" + minor);
        if (!Files.exists(sys)) return null;
        Path real = sys.toRealPath();
        // A partition's queue/ lives in its parent disk's directory.
        return Files.exists(real.resolve("queue")) ? real : real.getParent();
    }
}
