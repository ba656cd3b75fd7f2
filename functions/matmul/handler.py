"""matmul: FaaSnap's matmul — multiply two seeded random n x n float64 matrices with numpy.

numpy here links Debian's default libblas3 (reference BLAS): single-threaded and slow next to
OpenBLAS, which keeps the guest's single vCPU honest and the result bit-reproducible.
"""
import resource
import time

import numpy as np


def handle(event):
    n = int(event.get("n", 400))
    rng = np.random.default_rng(int(event.get("seed", 1)))

    t0 = time.perf_counter()
    a = rng.random((n, n))
    b = rng.random((n, n))
    t1 = time.perf_counter()
    c = a @ b
    t2 = time.perf_counter()
    seconds = t2 - t1
    return {
        "n": n,
        "sum": float(c.sum()),
        "trace": float(np.trace(c)),
        "generate_ms": round((t1 - t0) * 1000, 3),
        "matmul_ms": round(seconds * 1000, 3),
        "mflops": round(2.0 * n ** 3 / seconds / 1e6, 1) if seconds > 0 else None,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
