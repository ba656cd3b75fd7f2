package dev.thaw.vm;

import dev.thaw.guest.GuestImage;

import java.nio.file.Path;

/**
 * Everything that defines a VM's device model. A snapshot can only be restored into a VM with
 * the same image, memory size, vCPU count, machine and accelerator, so this record (minus the
 * per-instance paths) is stored in every snapshot manifest.
 *
 * @param memoryFile guest RAM file; {@code null} for anonymous RAM (cold boots that are never snapshotted)
 * @param sharedMemory true to write guest RAM through to the file (boot for a snapshot);
 *                     false for a private copy-on-write mapping (restores: the file stays pristine)
 * @param incomingState vmstate to restore from, or {@code null} to boot the kernel (or, for a
 *                      pre-started VMM, to name the vmstate only when it is bound: {@link #pooled})
 * @param hugePageAdvice whether QEMU's MADV_HUGEPAGE over guest RAM takes effect (host-side
 *                       paging only; not part of the device model)
 * @param uffd when set, guest RAM is served over userfaultfd instead of mapped from the file
 *             (a restore only; host-side like the advice)
 * @param regions when set, the file mapping of guest RAM gets its zero regions mapped anonymous
 *                (FaaSnap's per-region layout; a restore only, never with {@code uffd})
 */
public record VmConfig(GuestImage image, int memoryMib, int vcpus, Accel accel,
                       Path memoryFile, boolean sharedMemory, Path incomingState, HugePageAdvice hugePageAdvice,
                       Uffd uffd, Regions regions) {

    /**
     * The userfaultfd memory backend (docs/design.md §2): QEMU runs with the preload library
     * {@code preload}, which replaces the mapping of {@code memoryFile} by anonymous memory
     * registered with a userfaultfd and hands that to the page server listening on {@code socket}.
     */
    public record Uffd(Path preload, Path socket) {}

    /**
     * FaaSnap's per-region layout (docs/design.md §2): QEMU runs with the preload library
     * {@code preload}, which maps the memory file as QEMU asks and then every zero region listed
     * in {@code list} (memory.RegionList's format) anonymous over it.
     */
    public record Regions(Path preload, Path list) {}

    public VmConfig {
        if (hugePageAdvice == null) hugePageAdvice = HugePageAdvice.DROP;
        if (uffd != null && (sharedMemory || memoryFile == null)) {
            throw new IllegalArgumentException("a userfaultfd memory backend needs a restore from a private memory file");
        }
        if (regions != null && (incomingState == null || sharedMemory || memoryFile == null || uffd != null)) {
            throw new IllegalArgumentException("a per-region layout needs a restore from a private memory file, without userfaultfd");
        }
    }

    public static VmConfig boot(GuestImage image, int memoryMib, int vcpus, Accel accel, Path memoryFile) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, memoryFile != null, null, null, null, null);
    }

    public static VmConfig restore(GuestImage image, int memoryMib, int vcpus, Accel accel,
                                   Path memoryFile, Path vmstate) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, false, vmstate, null, null, null);
    }

    public VmConfig withHugePageAdvice(HugePageAdvice advice) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, sharedMemory, incomingState, advice, uffd, regions);
    }

    /**
     * A pre-started VMM (issue 11): started paused with {@code -incoming defer} like a restore, its
     * RAM behind userfaultfd from the start; {@code placeholder} is a sparse file of the VM's memory
     * size that only identifies the mapping the preload takes over. No snapshot is named: the vmstate
     * comes with the bind ({@link Guest#loadState(Path, java.time.Duration)}).
     */
    public static VmConfig pooled(GuestImage image, int memoryMib, int vcpus, Accel accel, Path placeholder, Uffd backend) {
        if (backend == null) throw new IllegalArgumentException("a pre-started VMM needs its userfaultfd backend");
        return new VmConfig(image, memoryMib, vcpus, accel, placeholder, false, null, null, backend, null);
    }

    /** This restore with guest RAM served over userfaultfd. */
    public VmConfig withUffd(Uffd backend) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, sharedMemory, incomingState, hugePageAdvice, backend, regions);
    }

    /** This restore with FaaSnap's per-region layout of guest RAM. */
    public VmConfig withRegions(Regions layout) {
        return new VmConfig(image, memoryMib, vcpus, accel, memoryFile, sharedMemory, incomingState, hugePageAdvice, uffd, layout);
    }

    /** True for a VM that starts paused waiting for a device state: a restore, or a pre-started VMM. */
    public boolean restoring() {
        return incomingState != null || uffd != null;
    }

    /**
     * QEMU's environment for the memory backends that are preload libraries, not command-line
     * options: the userfaultfd backend (src/main/c/thaw-uffd.c takes over the mapping of the memory
     * file QEMU maps as usual and hands it to the page server on the socket) or the per-region
     * layout (src/main/c/thaw-regions.c). Each acts only inside QEMU, not in the wrappers around it.
     */
    public void putPreloadEnvironment(java.util.Map<String, String> env) {
        if (regions != null) { // FaaSnap's per-region layout (src/main/c/thaw-regions.c), likewise only inside QEMU
            env.put("LD_PRELOAD", regions.preload().toString());
            env.put("THAW_REGIONS_MEM_PATH", memoryFile.toString());
            env.put("THAW_REGIONS_LIST", regions.list().toString());
        }
        if (uffd == null) return;
        env.put("LD_PRELOAD", uffd.preload().toString());
        env.put("THAW_UFFD_MEM_PATH", memoryFile.toString());
        env.put("THAW_UFFD_SOCKET", uffd.socket().toString());
        if (accel == Accel.TCG) env.put("THAW_UFFD_USER_MODE_ONLY", "1"); // enough for a jailed QEMU under TCG (thaw-uffd.c)
    }
}
