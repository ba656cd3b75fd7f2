#!/usr/bin/env python3
"""An early-installed function whose fetch fails for good, on real nodes and real QEMU.

One command (from anywhere; needs target/thaw.jar built from this branch):
    python3 docs/results/2026-11-30-early/fetch_failure.py [--scratch /var/tmp/early-fetch-failure]

A one-member etcd, node n1 with hello (128 MiB), serving snapshot files to n2 at 2 MiB/s (the
testing-only -Dthaw.testing.throttle-fetch). n2 joins, fetches hello, installs it early; a call
to n2 restores from the arriving file; n1 is SIGKILLed mid-fetch. Expected: the call answers 502
snapshot_fetch_failed naming the fetch, n2 lists no hello, its functions directory holds nothing
of it, and no QEMU of n2 is left. Ports 17090-17091 (etcd), 17041-17042 (nodes).
"""
import argparse, json, os, shutil, signal, subprocess, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "2026-11-30-cluster"))
import first_restore as fr  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scratch", default="/var/tmp/early-fetch-failure")
    a = ap.parse_args()
    shutil.rmtree(a.scratch, ignore_errors=True)
    os.makedirs(a.scratch)
    procs = []
    try:
        procs.append(subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", "etcd", "--data-dir", f"{a.scratch}/etcd",
                                       "--listen-client-urls", fr.ETCD, "--advertise-client-urls", fr.ETCD,
                                       "--listen-peer-urls", "http://127.0.0.1:17091",
                                       "--initial-advertise-peer-urls", "http://127.0.0.1:17091",
                                       "--initial-cluster", "default=http://127.0.0.1:17091"],
                                      stdout=open(f"{a.scratch}/etcd.log", "w"), stderr=subprocess.STDOUT))
        fr.wait("etcd healthy", lambda: b"true" in fr.http("GET", fr.ETCD + "/health", timeout=2)[1], 30)
        cmd = [fr.JAVA, "--enable-native-access=ALL-UNNAMED", "-Dthaw.testing.throttle-fetch=n2:2", "-jar",
               os.path.join(fr.ROOT, "target/thaw.jar"), "serve", "--port", "17041", "--data-dir", f"{a.scratch}/n1",
               "--cluster", fr.ETCD, "--node-name", "n1", "--advertise", "http://127.0.0.1:17041", "--lease-ttl", "5"]
        n1 = subprocess.Popen(cmd, stdout=open(f"{a.scratch}/n1.log", "w"), stderr=subprocess.STDOUT)
        procs.append(n1)
        fr.wait("n1 up", lambda: fr.http("GET", "http://127.0.0.1:17041/healthz", timeout=2)[0] == 200, 120)
        fn = f"{a.scratch}/fn/hello"
        os.makedirs(fn)
        shutil.copy(os.path.join(fr.ROOT, "functions/hello/handler.py"), fn)
        spec = json.load(open(os.path.join(fr.ROOT, "functions/hello/function.json")))
        spec["memory_mib"] = 128
        json.dump(spec, open(f"{fn}/function.json", "w"))
        s, body = fr.http("PUT", "http://127.0.0.1:17041/functions/hello", json.dumps({"path": fn}).encode(), timeout=600,
                          headers={"Content-Type": "application/json"})
        if s != 201:
            sys.exit(f"deploy failed: {s} {body[:300]}")
        time.sleep(3)
        n2 = fr.node("n2", 17042, f"{a.scratch}/n2", f"{a.scratch}/n2.log", "ws-first")
        procs.append(n2)
        fr.wait("n2 installs hello early", lambda: "thaw_snapshot_fetch_early_ms" in fr.metrics(17042), 300)
        early = time.time()
        result = {}

        def call():
            result["status"], result["body"] = fr.http("POST", "http://127.0.0.1:17042/functions/hello/invoke", b'{"name": "n2"}', timeout=120)
            result["at"] = time.time()
        t = threading.Thread(target=call)
        t.start()
        time.sleep(1.0)  # the restore is under way, its misses waiting for chunks
        n1.send_signal(signal.SIGKILL)
        killed = time.time()
        t.join(130)
        err = json.loads(result["body"]).get("error", {}) if result.get("body") else {}
        time.sleep(8)  # n1's lease (5 s) expires: n2 stops retrying it
        s, listing = fr.http("GET", "http://127.0.0.1:17042/functions", timeout=10)
        left = sorted(os.listdir(f"{a.scratch}/n2/functions")) if os.path.isdir(f"{a.scratch}/n2/functions") else []
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
        qemu = [l.strip() for l in ps if "qemu" in l and f"{a.scratch}/n2" in l]
        out = {"call_status": result.get("status"), "error_code": err.get("code"), "error_message": err.get("message"),
               "answered_after_kill_ms": round((result["at"] - killed) * 1000) if "at" in result else None,
               "call_sent_after_early_install_ms": round((killed - 1.0 - early) * 1000),
               "functions_on_n2": json.loads(listing).get("functions") if s == 200 else listing.decode()[:200],
               "n2_functions_dir": left, "n2_qemu_left": qemu, "load_end": os.getloadavg()}
        print(json.dumps(out, indent=1))
    finally:
        fr.stop(procs)


if __name__ == "__main__":
    main()
