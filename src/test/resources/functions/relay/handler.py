"""Test function for calls between functions: calls event["call"] with event["event"], or,
with {"recurse": true}, calls itself for ever (until the platform's call-depth limit)."""
import thaw


def handle(event):
    if event.get("recurse"):
        return thaw.invoke("relay", {"recurse": True})
    if event.get("call"):
        return {"called": event["call"], "result": thaw.invoke(event["call"], event.get("event", {}))}
    return {"depth": 0}
