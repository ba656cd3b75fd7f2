"""Test function: sleeps, raises or echoes, as the event asks."""
import os
import time


def handle(event):
    if event.get("sleep_s"):
        time.sleep(float(event["sleep_s"]))
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {"echo": event, "pid": os.getpid()}
