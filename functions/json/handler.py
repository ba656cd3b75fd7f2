"""json: FunctionBench's json_dumps_loads on a generated document.

The document is a list of `size` records built from a seeded generator, so the same event always
gives the same bytes (the checksum pins it) while record and test events differ in size and seed.
"""
import hashlib
import json
import random
import resource
import time

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def make_document(size, rng):
    items = []
    for i in range(size):
        items.append({
            "id": i,
            "name": " ".join(rng.choice(WORDS) for _ in range(3)),
            "score": round(rng.uniform(0, 1000), 4),
            "active": rng.random() < 0.5,
            "tags": rng.sample(WORDS, rng.randint(1, 5)),
            "position": {"x": rng.randint(-10000, 10000), "y": rng.randint(-10000, 10000)},
            "history": [rng.randint(0, 1 << 30) for _ in range(rng.randint(0, 8))],
        })
    return {"version": 1, "count": size, "items": items}


def handle(event):
    size = int(event.get("size", 2000))
    rounds = int(event.get("rounds", 1))
    rng = random.Random(int(event.get("seed", 1)))

    t0 = time.perf_counter()
    doc = make_document(size, rng)
    t1 = time.perf_counter()
    for _ in range(rounds):
        text = json.dumps(doc, sort_keys=True)
        back = json.loads(text)
    t2 = time.perf_counter()
    if back != doc:
        raise RuntimeError("json round trip changed the document")
    return {
        "items": size,
        "rounds": rounds,
        "json_bytes": len(text),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "generate_ms": round((t1 - t0) * 1000, 3),
        "dumps_loads_ms": round((t2 - t1) * 1000, 3),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
