"""pipe-transform, the middle stage: adds derived fields to every row, then hands them to
pipe-store. It waits delay_ms first, standing in for a slow dependency (a database, a model):
the stage the flow analysis should name as the bottleneck."""
import time

import thaw


def handle(event):
    time.sleep(float(event.get("delay_ms", 0)) / 1000)
    rows = [dict(r, fahrenheit=round(float(r["celsius"]) * 9 / 5 + 32, 1)) for r in event.get("rows", [])]
    stored = thaw.invoke("pipe-store", {"rows": rows})
    return {"transformed": len(rows), "store": stored}
