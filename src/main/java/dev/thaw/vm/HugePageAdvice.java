package dev.thaw.vm;

/**
 * What becomes of QEMU's request for transparent huge pages over guest RAM.
 *
 * <p>QEMU calls {@code madvise(MADV_HUGEPAGE)} on every RAM block. A restore maps the memory
 * file private, where no huge page can ever back guest RAM, yet the advice still changes how the
 * kernel pages it in: a fault on a mapping marked huge reads about 4 MiB around the faulting
 * page, whatever the disk's {@code read_ahead_kb} says (measured here: with read_ahead_kb 0, a
 * vanilla restore of hello took 31 major faults and read 84 MiB; without the advice, 282 faults
 * and 34 MiB at read_ahead_kb 128). That is a prefetch policy hidden in the VMM, and not the
 * one the papers measured: Firecracker maps guest memory without the advice, so its faults read
 * what the page cache's readahead decides. {@link #DROP} gives thaw's restores the same paging,
 * so the loading strategies, not the VMM, decide what is read ahead.
 */
public enum HugePageAdvice {
    /** QEMU's own behaviour: guest RAM is advised {@code MADV_HUGEPAGE}. */
    KEEP,
    /** QEMU runs under a seccomp filter that turns {@code madvise(…, MADV_HUGEPAGE)} into a no-op. */
    DROP;

    /** Parses {@code keep} or {@code drop} (any case). */
    public static HugePageAdvice parse(String s) {
        return switch (s.toLowerCase()) {
            case "keep" -> KEEP;
            case "drop" -> DROP;
            default -> throw new IllegalArgumentException("huge-page advice must be keep or drop, got " + s);
        };
    }

    public String id() {
        return name().toLowerCase();
    }
}
