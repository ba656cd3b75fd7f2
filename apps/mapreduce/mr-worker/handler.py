"""mr-worker, the map step: counts the words of its chunk, taking work_ms for it.

The duration is a sleep on purpose: on a 2-core host running QEMU TCG, CPU-bound work of
parallel workers would compete for the cores and blur which worker is the slow one.
"""
import collections
import time


def handle(event):
    start = time.monotonic()
    counts = collections.Counter(str(event.get("chunk", "")).split())
    left = float(event.get("work_ms", 0)) / 1000 - (time.monotonic() - start)
    if left > 0:
        time.sleep(left)
    return {"worker": event.get("worker", 0), "counts": dict(counts),
            "took_ms": round((time.monotonic() - start) * 1000, 1)}
