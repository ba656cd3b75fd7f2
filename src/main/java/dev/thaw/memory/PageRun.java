package dev.thaw.memory;

import dev.thaw.sys.Native;

/**
 * A run of consecutive pages of a file or a mapping: pages {@code start .. start+count-1}, each
 * {@link Native#PAGE_SIZE} bytes.
 */
public record PageRun(long start, long count) {
    public PageRun {
        if (start < 0 || count <= 0) {
            throw new IllegalArgumentException("page run needs start >= 0 and count > 0, got " + start + "+" + count);
        }
    }

    /** The page after the last one. */
    public long end() {
        return start + count;
    }

    /** Byte offset of the first page. */
    public long offset() {
        return start * Native.PAGE_SIZE;
    }

    /** Length in bytes. */
    public long length() {
        return count * Native.PAGE_SIZE;
    }
}
