"""FunctionBench's json workload: build a document, serialise it, parse it back."""
import json
import random


def handle(event):
    size = int(event.get("size", 1000))
    rng = random.Random(event.get("seed", 42))
    doc = {"items": [{"id": i, "name": "item-%d" % i, "score": rng.random(),
                      "tags": [rng.choice("abcdef") for _ in range(5)]} for i in range(size)]}
    text = json.dumps(doc)
    back = json.loads(text)
    return {"items": len(back["items"]), "bytes": len(text), "checksum": sum(x["id"] for x in back["items"])}
