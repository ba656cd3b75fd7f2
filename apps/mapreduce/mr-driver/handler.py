"""mr-driver: splits a (seeded) text into n chunks, maps them on n mr-worker invocations in
parallel, and reduces their word counts.

Event: n workers (default 4), work_ms each (default 200), except worker `slow` (default the
last one), which is given slow_ms (default 1500) — a deliberate straggler for the critical path.
"""
import collections
import random

import thaw

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def handle(event):
    n = int(event.get("n", 4))
    if n < 1:
        raise ValueError("n must be at least 1, got %d" % n)
    work_ms = float(event.get("work_ms", 200))
    slow_ms = float(event.get("slow_ms", 1500))
    slow = int(event.get("slow", n - 1))
    rng = random.Random(event.get("seed", 0))
    words = [rng.choice(WORDS) for _ in range(int(event.get("words", 400)))]
    chunks = [words[i::n] for i in range(n)]

    handles = [thaw.invoke_async("mr-worker", {"worker": i, "chunk": " ".join(chunks[i]),
                                               "work_ms": slow_ms if i == slow else work_ms})
               for i in range(n)]
    results = [h.result() for h in handles]

    total = collections.Counter()
    for r in results:
        total.update(r["counts"])
    return {"workers": n, "slow": slow, "words": sum(total.values()), "counts": dict(sorted(total.items())),
            "took_ms": [r["took_ms"] for r in results]}
