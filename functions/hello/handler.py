"""hello: the smallest function; its cost is the runtime and the agent, nothing else."""
import resource
import time


def handle(event):
    return {
        "greeting": "Hello, %s!" % event.get("name", "world"),
        "time_ns": time.time_ns(),
        "monotonic_ns": time.monotonic_ns(),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
