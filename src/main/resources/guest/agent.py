"""thaw guest agent: PID 1's only child of note, the host's peer inside the VM.

Protocol: one JSON object per line over the virtio-serial port named "thaw.agent".
Host -> guest requests carry an "id" and an "op":
  ping                          -> {"id", "ok": true, "pid", "function"}
  load  {function, files}       -> writes files (base64) to /tmp/fn/<name>, imports handler.py
  invoke {event, clock_ns[, seed]} -> {"id", "ok", "result" | "error", "exec_ms", "start_ns", "end_ns"[, "reseed_ms"]}
                                   a "seed" (base64, sent with the first call after a restore)
                                   reseeds the kernel's RNG and Python's, then runs the
                                   handler's @thaw.after_restore hooks; "reseed_ms" is how
                                   long both took
  before_snapshot               -> runs the handler's @thaw.before_snapshot hooks
Guest -> host requests (a handler calling another function, see thaw.py) carry a "call" id:
  {"call": n, "op": "invoke", "function", "event", "async"} answered by {"reply": n, ...}.

The agent never polls: it blocks in read(); when the host side is not connected the port
reads EOF, and the agent then waits for SIGIO, which the virtio console driver raises when
the host connects (a 1 s timed wait backs up a lost signal; it costs nothing while idle).
"""
import base64, fcntl, importlib.util, json, os, random, signal, struct, sys, threading, time, traceback

PORT_NAME = "thaw.agent"
FN_ROOT = "/tmp/fn"
RNDADDENTROPY = 0x40085203  # _IOW('R', 3, int[2])
RNDRESEEDCRNG = 0x5207      # _IO('R', 7)


KERNEL_SEED_BYTES = 64
# Opened once at start-up, so it is part of every snapshot: a restored clone reseeds with two
# ioctls and no open/close. Under TCG every kernel path a restored guest runs is translated
# anew, so each system call not made is code not translated on the first call's critical path.
URANDOM_FD = None


def reseed(seed):
    """Every clone of a snapshot starts with the snapshot's RNG state: the kernel's pool and
    Python's random module are copies. Mix the host's fresh bytes into the kernel's pool,
    credit them, and make the kernel rekey its generator now (not minutes later), so
    os.urandom, uuid4 and secrets differ between clones. Python's random takes its own part of
    the host's bytes (an int seed: no hashing, no read of the kernel's generator). A seed of
    only the kernel's part (an older host) gets the older, slower way: /dev/urandom opened
    for the call and random seeded from the kernel."""
    kernel, own = seed[:KERNEL_SEED_BYTES], seed[KERNEL_SEED_BYTES:]
    legacy = len(own) < 16
    fd = URANDOM_FD if URANDOM_FD is not None and not legacy else os.open("/dev/urandom", os.O_WRONLY)
    try:
        try:
            fcntl.ioctl(fd, RNDADDENTROPY, struct.pack("ii", len(kernel) * 8, len(kernel)) + kernel)
            fcntl.ioctl(fd, RNDRESEEDCRNG)
        except OSError:
            os.write(fd, kernel)  # mixed in without credit; the kernel rekeys on its own schedule
    finally:
        if fd != URANDOM_FD:
            os.close(fd)
    if legacy:
        random.seed()
    else:
        random.seed(int.from_bytes(own, "big"))


def find_port():
    base = "/sys/class/virtio-ports"
    for _ in range(500):
        if os.path.isdir(base):
            for p in os.listdir(base):
                try:
                    with open(os.path.join(base, p, "name")) as f:
                        if f.read().strip() == PORT_NAME:
                            return "/dev/" + p
                except OSError:
                    pass
        time.sleep(0.01)
    raise SystemExit("thaw-agent: virtio port %s not found" % PORT_NAME)


class Channel:
    """Line-oriented, thread-safe access to the virtio port."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGIO})
        fcntl.fcntl(self.fd, fcntl.F_SETOWN, os.getpid())
        fl = fcntl.fcntl(self.fd, fcntl.F_GETFL)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, fl | os.O_ASYNC)
        self.buf = b""
        self.wlock = threading.Lock()

    def read_line(self):
        while b"\n" not in self.buf:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if chunk:
                self.buf += chunk
            else:
                # Host not connected: sleep until it connects (SIGIO), never spin.
                signal.sigtimedwait({signal.SIGIO}, 1.0)
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def send(self, obj):
        data = (json.dumps(obj, separators=(",", ":"), default=str) + "\n").encode()
        with self.wlock:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.fd, view)
                except OSError:
                    signal.sigtimedwait({signal.SIGIO}, 1.0)
                    continue
                view = view[n:]


class Agent:
    def __init__(self, channel):
        self.ch = channel
        self.handler = None
        self.function = None
        self.calls = {}          # call id -> [threading.Event, reply]
        self.call_seq = 0
        self.call_lock = threading.Lock()
        self.context = threading.local()

    # -- calls from a handler to another function (used by thaw.py) ----------------------
    def call(self, function, event, is_async=False):
        with self.call_lock:
            self.call_seq += 1
            cid = self.call_seq
            waiter = [threading.Event(), None]
            self.calls[cid] = waiter
        msg = {"call": cid, "op": "invoke", "function": function, "event": event,
               "async": bool(is_async), "parent": getattr(self.context, "invocation", None)}
        self.ch.send(msg)
        return waiter

    def _deliver(self, msg):
        with self.call_lock:
            waiter = self.calls.pop(msg.get("reply"), None)
        if waiter:
            waiter[1] = msg
            waiter[0].set()

    # -- requests from the host -----------------------------------------------------------
    def op_ping(self, req):
        return {"ok": True, "pid": os.getpid(), "function": self.function}

    def op_load(self, req):
        fn = req["function"]
        name = fn["name"]
        root = os.path.join(FN_ROOT, name)
        os.makedirs(root, exist_ok=True)
        for rel, b64 in req.get("files", {}).items():
            path = os.path.normpath(os.path.join(root, rel))
            if not path.startswith(root + "/"):
                raise ValueError("file path escapes the function directory: " + rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(base64.b64decode(b64))
        sys.path.insert(0, root)
        spec = importlib.util.spec_from_file_location("handler", os.path.join(root, "handler.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not callable(getattr(module, "handle", None)):
            raise ValueError("handler.py defines no handle(event)")
        self.handler = module.handle
        self.function = name
        return {"ok": True, "function": name}

    def op_invoke(self, req):
        clock_ns = req.get("clock_ns")
        if clock_ns:
            # After a restore the guest clock still shows the snapshot's time.
            if abs(time.time_ns() - clock_ns) > 5_000_000:
                time.clock_settime_ns(time.CLOCK_REALTIME, clock_ns)
        if self.handler is None:
            raise RuntimeError("no function loaded")
        reseed_ms = None
        if req.get("seed"):
            t0 = time.perf_counter()
            reseed(base64.b64decode(req["seed"]))
            _hooks("after_restore")
            reseed_ms = (time.perf_counter() - t0) * 1000.0
        self.context.invocation = req.get("invocation")
        start_ns = time.time_ns()
        t0 = time.perf_counter()
        result = self.handler(req.get("event") or {})
        exec_ms = (time.perf_counter() - t0) * 1000.0
        reply = {"ok": True, "result": result, "exec_ms": exec_ms,
                 "start_ns": start_ns, "end_ns": time.time_ns()}
        if reseed_ms is not None:
            reply["reseed_ms"] = reseed_ms
        return reply

    def op_before_snapshot(self, req):
        _hooks("before_snapshot")
        return {"ok": True}

    def handle(self, req):
        rid = req.get("id")
        try:
            op = getattr(self, "op_" + str(req.get("op")), None)
            if op is None:
                raise ValueError("unknown op: %r" % req.get("op"))
            reply = op(req)
        except BaseException as e:  # the handler's failure is the caller's answer, not ours
            reply = {"ok": False, "error": {"type": type(e).__name__, "message": str(e),
                                              "traceback": traceback.format_exc()}}
        reply["id"] = rid
        try:
            self.ch.send(reply)
        except (TypeError, ValueError) as e:
            self.ch.send({"id": rid, "ok": False, "error": {
                "type": type(e).__name__, "message": "result is not JSON: %s" % e, "traceback": ""}})

    def run(self):
        while True:
            line = self.ch.read_line()
            if not line.strip():
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                self.ch.send({"id": None, "ok": False, "error": {
                    "type": "ProtocolError", "message": "bad JSON line", "traceback": ""}})
                continue
            if "reply" in msg:
                self._deliver(msg)
            else:
                # Requests run on their own thread so a handler can wait on its own calls
                # while this loop keeps reading their replies.
                threading.Thread(target=self.handle, args=(msg,), daemon=True).start()


AGENT = None


def _hooks(kind):
    lib = sys.modules.get("thaw")
    for hook in list(getattr(lib, "_HOOKS", {}).get(kind, [])):
        hook()


def main():
    global AGENT, URANDOM_FD
    try:
        URANDOM_FD = os.open("/dev/urandom", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        URANDOM_FD = None  # reseed() opens it per call instead
    AGENT = Agent(Channel(find_port()))
    sys.modules["thaw_agent"] = sys.modules[__name__]
    AGENT.ch.send({"id": None, "op": "ready", "pid": os.getpid()})
    AGENT.run()


if __name__ == "__main__":
    main()
