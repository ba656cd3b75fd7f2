"""chain-b, the middle: splits text into lower-case words and passes them on to chain-c."""
import re

import thaw


def handle(event):
    words = re.findall(r"[a-z0-9]+", str(event.get("text", "")).lower())
    trail = list(event.get("trail", [])) + ["chain-b"]
    return thaw.invoke("chain-c", {"words": sorted(words), "trail": trail})
