import time


def handle(event):
    name = event.get("name", "world")
    return {"greeting": "hello, %s" % name, "guest_time_ns": time.time_ns(),
            "guest_monotonic_ns": time.monotonic_ns()}
