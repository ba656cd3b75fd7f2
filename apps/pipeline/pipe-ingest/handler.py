"""pipe-ingest, the entry: reads (here: generates, seeded) sensor records, drops invalid ones,
and passes the rest and the event's delay_ms on to pipe-transform."""
import random

import thaw


def handle(event):
    rng = random.Random(event.get("seed", 0))
    raw = [{"id": i, "celsius": round(rng.uniform(-40, 60), 1) if rng.random() > 0.1 else None}
           for i in range(int(event.get("records", 10)))]
    rows = [r for r in raw if r["celsius"] is not None]
    result = thaw.invoke("pipe-transform", {"rows": rows, "delay_ms": event.get("delay_ms", 0)})
    return {"ingested": len(raw), "dropped": len(raw) - len(rows), "transform": result}
