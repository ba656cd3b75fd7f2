package dev.thaw.vm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Launches {@link QemuGuest}s: each in a fresh run directory under {@code runDir} (sockets, logs),
 * with the host-wide paging choice ({@link HugePageAdvice}) applied to every VM alike.
 */
public final class QemuLauncher implements GuestLauncher {
    private final Path runDir;
    private final Accel accel;
    private final HugePageAdvice hugePageAdvice;
    private final Duration startTimeout;

    public QemuLauncher(Path runDir, Accel accel, HugePageAdvice hugePageAdvice, Duration startTimeout) {
        this.runDir = runDir;
        this.accel = accel;
        this.hugePageAdvice = hugePageAdvice == null ? HugePageAdvice.DROP : hugePageAdvice;
        this.startTimeout = startTimeout;
    }

    @Override
    public Guest launch(VmConfig config, String id, CallHandler calls) {
        Path dir;
        try {
            dir = Files.createDirectories(runDir.resolve(id));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the run directory of " + id, e);
        }
        return QemuGuest.start(id, config.withHugePageAdvice(hugePageAdvice), dir, startTimeout, calls);
    }

    @Override
    public Accel accel() {
        return accel;
    }

    public HugePageAdvice hugePageAdvice() {
        return hugePageAdvice;
    }
}
