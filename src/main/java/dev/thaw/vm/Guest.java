package dev.thaw.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.memory.ProcessStats;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A running guest VM as the platform sees it: the seam between thaw's control plane and a VMM.
 *
 * <p>A {@link GuestLauncher} makes guests. A booted guest is running when it is returned and
 * announces its agent with {@link #awaitReady}; a restored one is returned paused, before its
 * device state is loaded, so the restore sequence is {@link #loadState}, then whatever the
 * restore strategy does before the guest runs, then {@link #resume}. After that the platform only
 * talks to the guest agent with {@link #request}. {@link #snapshot} is for deploys.
 *
 * <p>Every method may fail with a {@link VmException}: {@link VmException.Died} when the VMM is
 * gone, {@link VmException.Timeout} when it did not answer in time. A guest that failed is never
 * reused: the caller closes it. Implementations: {@link QemuGuest}; tests use a scripted fake.
 */
public interface Guest extends AutoCloseable {
    /** The instance id this guest was launched under. */
    String id();

    /** Waits for the agent's start-up line (booted guests only). */
    void awaitReady(Duration timeout);

    /** Loads the snapshot's device state into a paused restored guest (guest RAM stays where the launcher mapped it). */
    void loadState(Duration timeout);

    /**
     * Loads the device state from {@code vmstate} into a paused guest started to be restored, as
     * {@link #loadState(Duration)} does with the launch's own vmstate: how a pre-started VMM is
     * bound to a snapshot.
     */
    default void loadState(Path vmstate, Duration timeout) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot load a device state it was not launched with");
    }

    /** Lets a paused guest run. */
    void resume();

    /** Sends one agent request and waits for its reply. */
    JsonNode request(ObjectNode request, Duration timeout);

    /**
     * Writes the device state to {@code vmstate} and leaves the guest stopped (guest RAM is
     * already in the memory file the guest was booted with).
     */
    void snapshot(Path vmstate, Duration timeout);

    /** True while the VMM runs and its agent connection is open. */
    boolean alive();

    /** The VMM process's id, or -1 when there is none (a fake). */
    long pid();

    /** The VMM process's counters (faults, disk reads), or null when they cannot be read. */
    ProcessStats processStats();

    /** Stops the VMM at once (a guest holds nothing worth saving) and frees what it used. */
    @Override
    void close();
}
