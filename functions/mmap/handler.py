"""mmap: FaaSnap's mmap — map a large block of anonymous memory and write every page of it.

Nearly all of the work is the guest kernel handing out fresh pages on first touch; after a
snapshot restore that is exactly the memory a lazy loader gets wrong (pages the function will
overwrite anyway). One byte per page is written, from a different offset per call so the
pages really are dirtied; the block is unmapped before returning.
"""
import mmap
import resource
import time

PAGE = mmap.PAGESIZE


def handle(event):
    size = int(event.get("size_mib", 64)) << 20
    value = int(event.get("value", 1)) & 0xFF or 1

    t0 = time.perf_counter()
    block = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        for offset in range(0, size, PAGE):
            block[offset] = value
        t1 = time.perf_counter()
        # Read back one byte per page: proves every page holds what was written.
        touched = block[::PAGE].count(value)
        t2 = time.perf_counter()
    finally:
        block.close()
    if touched != size // PAGE:
        raise RuntimeError("only %d of %d pages hold the written value" % (touched, size // PAGE))
    return {
        "size_mib": size >> 20,
        "page_bytes": PAGE,
        "pages_touched": touched,
        "touch_ms": round((t1 - t0) * 1000, 3),
        "verify_ms": round((t2 - t1) * 1000, 3),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
