"""Library for thaw functions: call other functions through the platform.

    import thaw
    r = thaw.invoke("resize", {"w": 100})          # waits for the result (a dict)
    h = thaw.invoke_async("resize", {"w": 100})    # returns at once
    r = h.result()                                 # waits

    @thaw.after_restore                            # runs once in every instance restored from
    def reconnect():                               # the snapshot, before its first invocation
        ...                                        # (the RNGs are already reseeded then)

    @thaw.before_snapshot                          # runs once, before the deploy snapshots the
    def close_files():                             # warmed-up function
        ...
"""
import sys

_HOOKS = {"after_restore": [], "before_snapshot": []}


def after_restore(fn):
    """Registers fn to run in each restored instance before its first invocation."""
    _HOOKS["after_restore"].append(fn)
    return fn


def before_snapshot(fn):
    """Registers fn to run once, before the function's snapshot is taken at deploy."""
    _HOOKS["before_snapshot"].append(fn)
    return fn


class InvocationError(Exception):
    """The called function failed, does not exist, or the call was refused."""


def _agent():
    mod = sys.modules.get("thaw_agent") or sys.modules.get("__main__")
    agent = getattr(mod, "AGENT", None)
    if agent is None:
        raise InvocationError("thaw.invoke works only inside a thaw guest")
    return agent


class Handle:
    def __init__(self, waiter, function):
        self._waiter = waiter
        self.function = function

    def result(self, timeout=None):
        if not self._waiter[0].wait(timeout):
            raise TimeoutError("call to %s did not finish in %ss" % (self.function, timeout))
        reply = self._waiter[1]
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise InvocationError("%s: %s" % (self.function, err.get("message", "failed")))
        return reply.get("result")


def invoke_async(function, event=None):
    return Handle(_agent().call(function, event or {}, is_async=True), function)


def invoke(function, event=None):
    return Handle(_agent().call(function, event or {}), function).result()
