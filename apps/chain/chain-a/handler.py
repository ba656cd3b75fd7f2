"""chain-a, the entry: makes up some sentences (seeded) and sends them down the chain."""
import random

import thaw

VOCABULARY = ["snapshot", "restore", "page", "fault", "guest", "memory", "trace", "span",
              "function", "call", "chain", "warm", "cold", "cache", "disk", "queue"]


def handle(event):
    rng = random.Random(event.get("seed", 0))
    sentences = [" ".join(rng.choice(VOCABULARY) for _ in range(8)).capitalize() + "."
                 for _ in range(int(event.get("sentences", 3)))]
    result = thaw.invoke("chain-b", {"text": " ".join(sentences), "trail": ["chain-a"]})
    return {"sentences": len(sentences), "chain": result}
