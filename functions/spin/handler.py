"""spin: the synthetic function that load traces are mapped onto.

handle({"duration_ms": D, "memory_mib": M}) touches M MiB of fresh memory (one write per
4 KiB page, so the guest really backs it) and then busy-loops on the CPU until D ms have
passed since the call began, so the reported duration covers both. It returns what it did.
"""
import time

PAGE = 4096
MIB = 1 << 20


def _number(event, key, limit):
    value = event.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError("%s must be a non-negative number, got %r" % (key, value))
    if value > limit:
        raise ValueError("%s must be at most %d, got %r" % (key, limit, value))
    return value


def handle(event):
    event = event or {}
    duration_ms = _number(event, "duration_ms", 15 * 60 * 1000)
    memory_mib = int(_number(event, "memory_mib", 64 * 1024))
    start = time.monotonic()

    touched = 0
    buf = None
    if memory_mib > 0:
        buf = bytearray(memory_mib * MIB)
        for off in range(0, len(buf), PAGE):
            buf[off] = 1
            touched += 1

    deadline = start + duration_ms / 1000.0
    spins = 0
    while time.monotonic() < deadline:
        spins += 1
    elapsed_ms = (time.monotonic() - start) * 1000.0
    del buf
    return {
        "duration_ms": duration_ms,
        "memory_mib": memory_mib,
        "pages_touched": touched,
        "spins": spins,
        "elapsed_ms": round(elapsed_ms, 3),
    }
