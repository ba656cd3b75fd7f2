package dev.thaw.platform;

import dev.thaw.guest.AgentConnection;
import dev.thaw.guest.GuestImage;
import dev.thaw.snapshot.Snapshot;
import dev.thaw.snapshot.SnapshotWriter;
import dev.thaw.vm.Accel;
import dev.thaw.vm.QemuVm;
import dev.thaw.vm.VmConfig;
import dev.thaw.vm.VmException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Turns a function bundle into a snapshot directory: boot a VM with its RAM in a file, load the
 * code, warm it up with the record input, snapshot, record the working set, seal. Works in a
 * staging directory the caller moves into place only when everything succeeded.
 */
final class Deployer {
    private static final System.Logger LOG = System.getLogger(Deployer.class.getName());

    private final Platform.Config config;
    private final GuestImage image;
    private final Accel accel;
    private final AgentConnection.CallHandler calls;

    Deployer(Platform.Config config, GuestImage image, Accel accel, AgentConnection.CallHandler calls) {
        this.config = config;
        this.image = image;
        this.accel = accel;
        this.calls = calls;
    }

    /** Fills {@code staging} with {@code code/} and a sealed {@code snapshot/}. */
    void build(FunctionBundle bundle, Path staging) throws IOException {
        FunctionSpec spec = bundle.spec();
        bundle.writeTo(staging.resolve("code"));
        Path snapDir = Files.createDirectories(staging.resolve("snapshot"));
        String snapshotId = SnapshotWriter.newId();
        VmConfig vmConfig = VmConfig.boot(image, spec.memoryMib(), spec.vcpus(), accel, snapDir.resolve(Snapshot.MEMORY))
                .withHugePageAdvice(config.hugePageAdvice());
        try (QemuVm vm = QemuVm.start(vmConfig, config.newRunDir("d-" + Ids.shortId()), config.bootTimeout());
             AgentConnection agent = new AgentConnection(vm.agentChannel())) {
            agent.onCall(calls);
            agent.awaitReady(config.bootTimeout());
            GuestRequests.deployStep(agent, GuestRequests.load(bundle), config.bootTimeout(), spec.name(), "loading");
            GuestRequests.deployStep(agent, GuestRequests.invoke(spec.warmupEvent(), "warmup"),
                    Duration.ofSeconds(spec.timeoutSeconds()), spec.name(), "warm-up");
            vm.snapshot(snapDir.resolve(Snapshot.VMSTATE), config.bootTimeout());
        } catch (VmException e) {
            throw new ThawException(502, "deploy_failed", "deploying " + spec.name() + ": " + e.getMessage(), null, e);
        }
        if (spec.record()) recordWorkingSet(snapDir, snapshotId, spec, vmConfig);
        SnapshotWriter.seal(snapDir, snapshotId, spec.name(), image, vmConfig);
    }

    private void recordWorkingSet(Path snapDir, String snapshotId, FunctionSpec spec, VmConfig vmConfig) {
        try {
            Recorder.record(snapDir, snapshotId, spec, vmConfig, image, config.newRunDir("r-" + Ids.shortId()),
                    config.bootTimeout(), calls);
        } catch (IOException | RuntimeException e) {
            // Without a record, reap and faasnap fall back to vanilla (with a warning); the snapshot stays usable.
            LOG.log(System.Logger.Level.WARNING, "recording the working set of " + spec.name() + " failed: " + e.getMessage());
        }
    }
}
