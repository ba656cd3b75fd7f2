"""pipe-store, the sink: writes the rows as JSON lines to /tmp (the guest's tmpfs) and
answers with how many it stored and a checksum of what is on disk."""
import hashlib
import json
import os

PATH = "/tmp/pipe-store.jsonl"


def handle(event):
    rows = event.get("rows", [])
    with open(PATH, "w") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    with open(PATH, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    size = os.path.getsize(PATH)
    os.remove(PATH)
    return {"stored": len(rows), "bytes": size, "sha256": digest}
