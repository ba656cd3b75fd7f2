package dev.thaw.scale;

/**
 * How many restores may run on the host at once: the CPU headroom a restore needs without
 * starving the instances that are serving calls.
 *
 * <p>A restore under TCG takes about 400 ms of both cores of these hosts (QEMU start, state
 * load, and the retranslation of the guest's first request); two at once take twice as long and
 * slow every running instance, which lengthens their calls, which sets off more restores — the
 * storm issue 12 measured. So restores take a slot, and the default is one slot per two cores
 * (at least one). Only the count lives here; waiting for a slot is the platform's.
 */
public final class RestoreSlots {
    private final int capacity;
    private int used;

    public RestoreSlots(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("restore slots must be at least 1, got " + capacity);
        this.capacity = capacity;
    }

    /** One slot per two cores, at least one. */
    public static int forCores(int cores) {
        return Math.max(1, cores / 2);
    }

    public synchronized boolean tryAcquire() {
        if (used >= capacity) return false;
        used++;
        return true;
    }

    public synchronized void release() {
        if (used == 0) throw new IllegalStateException("release without a slot taken");
        used--;
    }

    public synchronized boolean free() {
        return used < capacity;
    }

    public synchronized int used() {
        return used;
    }

    public int capacity() {
        return capacity;
    }
}
