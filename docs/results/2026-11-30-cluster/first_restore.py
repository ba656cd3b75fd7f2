#!/usr/bin/env python3
"""First restore on a node that fetches the snapshot: ws-first against whole-file.

One command (from anywhere; builds target/thaw.jar if missing):
    python3 docs/results/2026-11-30-cluster/first_restore.py [--runs 3] [--out DIR] [--memory-mib 128]

Starts a one-member etcd, node n1 and deploys hello (128 MiB) there; then, run by run and in
alternating turns, starts a fresh node n2 with --fetch-order ws-first or whole-file, which fetches
hello's snapshot from n1, and invokes hello on n2 every 10 ms until it answers. Reports, per run,
from n2's own wall-clock stamps (GET /metrics: thaw_snapshot_fetch_*_ms) and the client's answer
time on the same host clock: fetch start -> loading set complete, -> installed early (ws-first:
restorable once every file but the memory files is here; thaw_snapshot_fetch_early_ms), -> first
call answered, -> complete (every file here and checked), and that call's restore strategy and
time (timing_ms.total). whole-file installs only when complete (the baseline). Writes results.json and prints a table with the
load average. Ports 17090-17091 (etcd), 17041-17042 (nodes); data under /var/tmp/cluster2-first-restore.
"""
import argparse, json, os, re, shutil, signal, statistics, subprocess, sys, time, urllib.request, urllib.error

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
ETCD = "http://127.0.0.1:17090"


def http(method, url, body=None, timeout=120, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait(what, pred, limit):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{what} did not happen within {limit} s")


def node(name, port, data, log, order=None):
    cmd = [JAVA, "--enable-native-access=ALL-UNNAMED", "-jar", os.path.join(ROOT, "target/thaw.jar"), "serve",
           "--port", str(port), "--data-dir", data, "--cluster", ETCD, "--node-name", name,
           "--advertise", f"http://127.0.0.1:{port}", "--lease-ttl", "5"]
    if order:
        cmd += ["--fetch-order", order]
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def metrics(port):
    _, body = http("GET", f"http://127.0.0.1:{port}/metrics", timeout=10)
    out = {}
    for m in re.finditer(r'^(thaw_snapshot_fetch_[a-z_]+)\{function="hello"[^}]*\} ([0-9.eE+]+)$', body.decode(), re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def stop(procs):
    """Stops the started processes, newest first: SIGTERM, then SIGKILL after 20 s."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--memory-mib", type=int, default=128)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/results/2026-11-30-cluster"))
    ap.add_argument("--scratch", default="/var/tmp/cluster2-first-restore")
    ap.add_argument("--name", default="first-restore.json", help="results file name under --out")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(ROOT, "target/thaw.jar")):
        subprocess.run(["mvn", "-q", "-B", "-o", "package", "-DskipTests"], cwd=ROOT, check=True,
                       env=dict(os.environ, JAVA_HOME=os.path.dirname(os.path.dirname(JAVA))))
    shutil.rmtree(a.scratch, ignore_errors=True)
    os.makedirs(a.scratch)
    procs = []
    try:
        procs.append(subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", "etcd", "--data-dir", f"{a.scratch}/etcd",
                                       "--listen-client-urls", ETCD, "--advertise-client-urls", ETCD,
                                       "--listen-peer-urls", "http://127.0.0.1:17091",
                                       "--initial-advertise-peer-urls", "http://127.0.0.1:17091",
                                       "--initial-cluster", "default=http://127.0.0.1:17091"],
                                      stdout=open(f"{a.scratch}/etcd.log", "w"), stderr=subprocess.STDOUT))
        wait("etcd healthy", lambda: b"true" in http("GET", ETCD + "/health", timeout=2)[1], 30)
        procs.append(node("n1", 17041, f"{a.scratch}/n1", f"{a.scratch}/n1.log"))
        wait("n1 up", lambda: http("GET", "http://127.0.0.1:17041/healthz", timeout=2)[0] == 200, 120)
        fn = f"{a.scratch}/fn/hello"
        os.makedirs(fn)
        shutil.copy(os.path.join(ROOT, "functions/hello/handler.py"), fn)
        spec = json.load(open(os.path.join(ROOT, "functions/hello/function.json")))
        spec["memory_mib"] = a.memory_mib
        json.dump(spec, open(f"{fn}/function.json", "w"))
        s, body = http("PUT", "http://127.0.0.1:17041/functions/hello", json.dumps({"path": fn}).encode(), timeout=600,
                       headers={"Content-Type": "application/json"})
        if s != 201:
            sys.exit(f"deploy failed: {s} {body[:500]}")
        snapshot = json.loads(body)["snapshot"]["snapshotId"]
        time.sleep(3)  # n1 announces on its next tick
        rows = []
        for run in range(1, a.runs + 1):
            orders = ["ws-first", "whole-file"] if run % 2 else ["whole-file", "ws-first"]
            for order in orders:
                data = f"{a.scratch}/n2-{run}-{order}"
                n2 = node("n2", 17042, data, f"{a.scratch}/n2-{run}-{order}.log", order)
                load = os.getloadavg()[0]
                try:
                    deadline = time.time() + 300
                    while True:
                        try:
                            s, body = http("POST", "http://127.0.0.1:17042/functions/hello/invoke", b'{"name": "n2"}', timeout=120)
                        except OSError:
                            s = None
                        if s == 200:
                            answered = time.time() * 1000
                            break
                        if time.time() > deadline:
                            sys.exit(f"n2 never answered ({order}, run {run}); see {a.scratch}")
                        time.sleep(0.01)
                    res = json.loads(body)
                    # an early answer comes before the fetch completes: wait for its "installed" stamp
                    wait("n2's fetch complete", lambda: "thaw_snapshot_fetch_installed_ms" in metrics(17042), 300)
                    m = metrics(17042)
                    start = m["thaw_snapshot_fetch_started_ms"]
                    row = {"run": run, "order": order, "load1": load,
                           "loading_set_ms": round(m["thaw_snapshot_fetch_loading_set_ms"] - start) if "thaw_snapshot_fetch_loading_set_ms" in m else None,
                           "early_ms": round(m["thaw_snapshot_fetch_early_ms"] - start) if "thaw_snapshot_fetch_early_ms" in m else None,
                           "installed_ms": round(m["thaw_snapshot_fetch_installed_ms"] - start),
                           "first_answer_ms": round(answered - start),
                           "answered_before_complete": answered < m["thaw_snapshot_fetch_installed_ms"],
                           "restore_strategy": res.get("cold_start"),
                           "restore_total_ms": res.get("timing_ms", {}).get("total"),
                           "snapshot_ok": res.get("snapshot_id", snapshot) == snapshot}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                finally:
                    n2.send_signal(signal.SIGTERM)
                    n2.wait()
                    shutil.rmtree(data, ignore_errors=True)
        summary = {}
        for order in ("ws-first", "whole-file"):
            r = [x for x in rows if x["order"] == order]
            summary[order] = {k: statistics.median(x[k] for x in r) for k in ("installed_ms", "first_answer_ms")}
            for k in ("loading_set_ms", "early_ms"):
                if all(x[k] is not None for x in r):
                    summary[order][k] = statistics.median(x[k] for x in r)
        pairs = [(w["first_answer_ms"], f["first_answer_ms"]) for w in rows if w["order"] == "ws-first"
                 for f in rows if f["order"] == "whole-file" and f["run"] == w["run"]]
        summary["paired_ratio_first_answer_ws_over_whole"] = statistics.median(w / f for w, f in pairs)
        done = [(w["installed_ms"], f["installed_ms"]) for w in rows if w["order"] == "ws-first"
                for f in rows if f["order"] == "whole-file" and f["run"] == w["run"]]
        summary["paired_ratio_complete_ws_over_whole"] = statistics.median(w / f for w, f in done)
        out = {"rows": rows, "summary": summary, "memory_mib": a.memory_mib, "host_load_end": os.getloadavg()}
        os.makedirs(a.out, exist_ok=True)
        json.dump(out, open(os.path.join(a.out, a.name), "w"), indent=1)
        print("\norder        fetch->loading set  fetch->early install  fetch->first answer  fetch->complete   (medians, ms)")
        for order in ("ws-first", "whole-file"):
            s = summary[order]
            print(f"{order:12} {s.get('loading_set_ms', '-'):>18} {s.get('early_ms', '-'):>21} {s['first_answer_ms']:>20} {s['installed_ms']:>16}")
        print(f"paired ratio of first answer, ws-first / whole-file: {summary['paired_ratio_first_answer_ws_over_whole']:.3f}")
        print(f"paired ratio of complete, ws-first / whole-file: {summary['paired_ratio_complete_ws_over_whole']:.3f}")
        print(f"load average at the end: {os.getloadavg()}")
    finally:
        stop(procs)


if __name__ == "__main__":
    main()
