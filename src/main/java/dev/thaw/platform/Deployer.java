package dev.thaw.platform;

import dev.thaw.guest.GuestImage;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.snapshot.SnapshotWriter;
import dev.thaw.vm.Guest;
import dev.thaw.vm.GuestLauncher;
import dev.thaw.vm.VmConfig;
import dev.thaw.vm.VmException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Turns a function bundle into a snapshot directory: boot a VM with its RAM in a file, load the
 * code, warm it up with the record input, snapshot, record the working set, seal. Works in a
 * staging directory the caller moves into place only when everything succeeded. Both VMs it
 * starts (the boot and the record's restore) hold an {@link InstanceManager} reservation, so a
 * deploy counts against the same limits as invocations.
 */
final class Deployer {
    private static final System.Logger LOG = System.getLogger(Deployer.class.getName());

    private final Platform.Config config;
    private final GuestLauncher launcher;
    private final GuestImage image;
    private final InstanceManager instances;
    private final GuestCalls calls;

    Deployer(Platform.Config config, GuestLauncher launcher, GuestImage image, InstanceManager instances, GuestCalls calls) {
        this.config = config;
        this.launcher = launcher;
        this.image = image;
        this.instances = instances;
        this.calls = calls;
    }

    /** Fills {@code staging} with {@code code/} and a sealed {@code snapshot/}. */
    void build(FunctionBundle bundle, Path staging) throws IOException {
        FunctionSpec spec = bundle.spec();
        requireSpace(staging.getParent(), spec);
        bundle.writeTo(staging.resolve("code"));
        Path snapDir = Files.createDirectories(staging.resolve("snapshot"));
        String snapshotId = SnapshotWriter.newId();
        VmConfig vmConfig = VmConfig.boot(image, spec.memoryMib(), spec.vcpus(), launcher.accel(), snapDir.resolve(Snapshot.MEMORY));
        try (InstanceManager.Reservation ignored = instances.reserve(spec.memoryMib());
             Guest vm = launcher.launch(vmConfig, "d-" + Ids.shortId(), calls.forCaller(spec))) {
            vm.awaitReady(config.bootTimeout());
            GuestRequests.deployStep(vm, GuestRequests.load(bundle), config.bootTimeout(), spec.name(), "loading");
            GuestRequests.deployStep(vm, GuestRequests.invoke(spec.warmupEvent(), "warmup"),
                    Duration.ofSeconds(spec.timeoutSeconds()), spec.name(), "warm-up");
            GuestRequests.deployStep(vm, GuestRequests.beforeSnapshot(), config.bootTimeout(), spec.name(), "preparing to snapshot");
            vm.snapshot(snapDir.resolve(Snapshot.VMSTATE), config.bootTimeout());
        } catch (VmException e) {
            requireSpace(staging.getParent(), spec); // a VM that died writing its memory file on a full disk: say so
            throw new ThawException(ThawException.Kind.VM_FAILED, "deploy_failed", "deploying " + spec.name() + ": " + e.getMessage(), null, e);
        }
        if (spec.record()) recordWorkingSet(snapDir, snapshotId, spec, vmConfig);
        SnapshotWriter.seal(snapDir, snapshotId, spec.name(), image, vmConfig);
    }

    /**
     * A deploy writes the guest's memory file and, with a record, its sparse copy: refuses up
     * front (INSUFFICIENT_STORAGE, 507) when the data directory's disk has not room for both.
     */
    static void requireSpace(Path dir, FunctionSpec spec) throws IOException {
        long needed = (spec.memoryMib() * (spec.record() ? 2L : 1L) + 64) << 20;
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < needed) {
            throw new ThawException(ThawException.Kind.INSUFFICIENT_STORAGE, "disk_full", "deploying " + spec.name()
                    + " needs about " + (needed >> 20) + " MiB on the disk of " + dir + ", which has " + (free >> 20) + " MiB free");
        }
    }

    private void recordWorkingSet(Path snapDir, String snapshotId, FunctionSpec spec, VmConfig vmConfig) {
        try (InstanceManager.Reservation ignored = instances.reserve(spec.memoryMib())) {
            Recorder.record(snapDir, snapshotId, spec, vmConfig, image, launcher, config.bootTimeout(), calls.forCaller(spec),
                    new Recorder.Setup(config.recordMethod(), config.runDir(), config.cacheDir()));
        } catch (IOException | RuntimeException e) {
            // Without a record, reap and faasnap fall back to vanilla (with a warning); the snapshot stays usable.
            LOG.log(System.Logger.Level.WARNING, "recording the working set of " + spec.name() + " failed: " + e.getMessage());
        }
    }
}
