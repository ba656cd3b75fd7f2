package dev.thaw.memory;

/**
 * One line of {@code /proc/PID/maps}: virtual addresses [start, end) mapping {@code path} from
 * byte {@code offset}, with permissions such as {@code "rw-p"} (p = private copy-on-write,
 * s = shared). {@code path} is empty for anonymous memory and may be a pseudo name like
 * {@code [heap]}; a deleted file reads {@code "/file (deleted)"}.
 */
public record Mapping(long start, long end, String perms, long offset, long inode, String path) {

    /** Length in bytes. */
    public long length() {
        return end - start;
    }

    /** Whether the mapping is shared (writes reach the file) rather than private copy-on-write. */
    public boolean shared() {
        return perms.length() > 3 && perms.charAt(3) == 's';
    }

    /** Whether {@code address} falls inside this mapping. */
    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }
}
