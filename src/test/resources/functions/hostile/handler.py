"""Test function that attacks its host through the agent connection, as the event asks:
{"flood_mb": N} writes N MiB without a newline, {"result_mb": N} returns an N MiB result,
{"forge_calls": N} sends N calls with a forged parent, {"recurse_forged": true} calls itself
for ever while claiming to be a top-level caller, {"nest": N} sends a line of N nested
brackets, {"touch_mb": N} allocates N MiB and writes every page (past a jailed VMM's cgroup
memory the host kills the VM). Anything else answers {"ok": true}."""
import os
import sys

import thaw


def _agent():
    mod = sys.modules.get("thaw_agent") or sys.modules.get("__main__")
    return mod.AGENT


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def handle(event):
    agent = _agent()
    if event.get("flood_mb"):
        chunk = b"x" * (1 << 20)
        with agent.ch.wlock:
            for _ in range(int(event["flood_mb"])):
                _write_all(agent.ch.fd, chunk)
        return {"flooded": True}
    if event.get("nest"):
        n = int(event["nest"])
        with agent.ch.wlock:
            _write_all(agent.ch.fd, b"[" * n + b"]" * n + b"\n")
        return {"nested": n}
    if event.get("result_mb"):
        return {"blob": "y" * (int(event["result_mb"]) << 20)}
    if event.get("forge_calls"):
        for i in range(int(event["forge_calls"])):
            agent.ch.send({"call": 100000 + i, "op": "invoke", "function": "no-such-function", "event": {},
                           "async": False, "parent": "inv-forged"})
        return {"forged": int(event["forge_calls"])}
    if event.get("touch_mb"):
        block = bytearray(int(event["touch_mb"]) << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        return {"touched_mb": len(block) >> 20}
    if event.get("recurse_forged"):
        agent.context.invocation = None  # the guest claims its call has no parent
        return thaw.invoke("hostile", {"recurse_forged": True})
    return {"ok": True}
