#!/usr/bin/env python3
"""Issue 12's table (hello, 4 prewarmed, Poisson stream, warm mode, 30 s per rate) against one
or more thaw builds, paired: every daemon runs at once on its own port and data directory, but
only the one being measured has VMs (the others' instances are stopped first), and the order of
the builds alternates from round to round. Prints one row per run and, at the end, a markdown
table, the paired p99 ratios against the first build, and (--search) each build's highest rate
with p99 <= 100 ms.

  loadrun.py --jar new=target/thaw.jar 48 145                       # one build, two rates
  loadrun.py --jar base=/var/tmp/prime-base/target/thaw.jar \\
             --jar new=target/thaw.jar --rounds 2 48 145            # before/after, paired
  loadrun.py --jar new=target/thaw.jar --search                     # rates 32..128: highest with p99 <= 100 ms

Latencies are of 2xx answers from the scheduled send time (thaw load's); "429 p99" is of the
refusals, from the per-call CSV. Everything a run writes goes to --out (JSON reports, CSVs, logs).
Before the first measured run each daemon serves an unmeasured 10 s stream at 32 req/s
(--daemon-warmup 0 to skip): a fresh daemon's JVM runs its invoke path interpreted at first, which
is not what issue 12 measures and would land on whichever build happens to go first.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../.."))
SEARCH_RATES = [32, 48, 64, 80, 96, 112, 128]


def http(method, url, body=None, timeout=600):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        raise RuntimeError(f"{method} {url}: {e.code} {text}")
    return json.loads(text) if text.strip() else None


def loadavg():
    return open("/proc/loadavg").read().split()[0]


class Daemon:
    def __init__(self, name, jar, port, data, out, serve_args):
        self.name, self.jar, self.port = name, os.path.abspath(jar), port
        self.url = f"http://127.0.0.1:{port}"
        os.makedirs(data, exist_ok=True)
        log = open(os.path.join(out, f"serve-{name}.log"), "w")
        self.proc = subprocess.Popen(["java", "-jar", self.jar, "serve", "-p", str(port), "--data-dir", data,
                                      "--max-queue-wait", "100", *serve_args], stdout=log, stderr=subprocess.STDOUT)

    def ready(self):
        for _ in range(600):
            if self.proc.poll() is not None:
                sys.exit(f"{self.name}: the daemon exited (see serve-{self.name}.log)")
            try:
                h = http("GET", self.url + "/healthz", timeout=5)
                if h.get("snapshots_verified", True):
                    break
            except Exception:
                pass
            time.sleep(1)
        names = [f["name"] for f in http("GET", self.url + "/functions").get("functions", [])]
        if "hello" not in names:
            http("PUT", self.url + "/functions/hello", {"path": os.path.join(ROOT, "functions/hello")})

    def stop_instances(self):
        got = http("GET", self.url + "/instances")
        items = got.get("instances", got) if isinstance(got, dict) else got
        for i in items:
            try:
                http("DELETE", f"{self.url}/instances/{i['id']}")
            except RuntimeError:
                pass  # gone meanwhile

    def stats(self):
        try:
            return http("GET", self.url + "/stats")["functions"]["hello"]
        except Exception:
            return {}

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def workload(rate, out):
    path = os.path.join(out, f"hello-{rate}.json")
    w = json.load(open(os.path.join(ROOT, "docs/results/2026-11-30-scaling/hello-48.json")))
    w["name"] = f"hello-{rate}"
    w["description"] = f"Poisson stream of hello at {rate} req/s for 30 s, warm mode (issue 12's table)"
    w["source"]["functions"][0]["rate"] = rate
    json.dump(w, open(path, "w"), indent=2)
    return path


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def warm_daemon(d, others, args):
    for o in others:
        o.stop_instances()
    d.stop_instances()
    http("POST", d.url + "/functions/hello/prewarm?count=4")
    w = json.load(open(workload(32, args.out)))
    w["name"] = "daemon-warmup"
    w["source"]["duration"] = f"{args.daemon_warmup}s"
    path = os.path.join(args.out, "daemon-warmup.json")
    json.dump(w, open(path, "w"))
    subprocess.run(["java", "-jar", args.load_jar, "load", path, "--target", d.url, "--progress", "0"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    d.stop_instances()


def measure(d, others, rate, tag, args):
    for o in others:
        o.stop_instances()
    d.stop_instances()
    before = d.stats()
    http("POST", d.url + "/functions/hello/prewarm?count=4")
    time.sleep(3)
    la0 = loadavg()
    base = os.path.join(args.out, f"{tag}-{d.name}-{rate}")
    subprocess.run(["java", "-jar", args.load_jar, "load", workload(rate, args.out), "--target", d.url,
                    "--json", base + ".json", "--csv", base + ".csv", "--progress", "0"],
                   stdout=open(base + ".txt", "w"), stderr=subprocess.STDOUT, check=False)
    la1 = loadavg()
    after = d.stats()
    d.stop_instances()
    s = json.load(open(base + ".json"))["summary"]
    lat = s["latency_ms"]
    refused = []
    with open(base + ".csv") as f:
        for row in csv.DictReader(f):
            if row["status"] == "429":
                refused.append(float(row["latency_ms"] or 0))
    return {
        "tag": tag, "build": d.name, "rate": rate, "ok_rps": round(s["ok_rps"], 1),
        "p50": lat.get("p50"), "p90": lat.get("p90"), "p99": lat.get("p99"), "p999": lat.get("p999"),
        "restores": s.get("restores"), "r429": s["status_codes"].get("429", 0),
        "r429_p99": pct(refused, 99), "errors": s.get("errors", 0) + s.get("http_errors", 0) + s.get("failed", 0),
        "primes": after.get("primes", 0) - before.get("primes", 0), "prime_ms": after.get("prime_ms"),
        "prime_exec_ms": after.get("prime_exec_ms"), "service_ms": after.get("service_ms"), "load": f"{la0} → {la1}",
    }


COLS = ["tag", "build", "rate", "ok_rps", "p50", "p90", "p99", "p999", "restores", "r429", "r429_p99", "errors",
        "primes", "prime_ms", "load"]


def fmt(v):
    if isinstance(v, float):
        return f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"
    return "–" if v is None else str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", action="append", required=True, metavar="NAME=PATH", help="a build to measure (repeatable)")
    ap.add_argument("--port", type=int, default=15000, help="the first build's port; the next ones count up (default 15000)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds over every rate and build; the build order alternates")
    ap.add_argument("--search", action="store_true", help=f"rates {SEARCH_RATES} (if none given); report the highest with p99 <= 100 ms")
    ap.add_argument("--out", default="/var/tmp/prime-loadrun", help="where reports, CSVs and logs go")
    ap.add_argument("--data-root", default="/var/tmp/prime-loaddata", help="each build's --data-dir is DATA_ROOT/NAME")
    ap.add_argument("--load-jar", help="the jar whose 'thaw load' sends the stream (default: the last build's)")
    ap.add_argument("--serve-arg", action="append", default=[], help="an extra 'thaw serve' argument for every build")
    ap.add_argument("--daemon-warmup", type=int, default=10, metavar="S",
                    help="seconds of unmeasured load each daemon serves before the first run (0: none; default 10)")
    ap.add_argument("rates", nargs="*", type=int)
    args = ap.parse_args()
    rates = args.rates or (SEARCH_RATES if args.search else [48, 145])
    builds = [j.split("=", 1) for j in args.jar]
    args.load_jar = os.path.abspath(args.load_jar or builds[-1][1])
    os.makedirs(args.out, exist_ok=True)
    daemons = [Daemon(n, p, args.port + i, os.path.join(args.data_root, n), args.out, args.serve_arg)
               for i, (n, p) in enumerate(builds)]
    rows = []
    try:
        for d in daemons:
            d.ready()
        if args.daemon_warmup > 0:
            for d in daemons:
                warm_daemon(d, [o for o in daemons if o is not d], args)
        print("\t".join(COLS), flush=True)
        for r in range(args.rounds):
            order = daemons if r % 2 == 0 else daemons[::-1]
            for rate in rates:
                for d in order:
                    row = measure(d, [o for o in daemons if o is not d], rate, f"r{r + 1}", args)
                    rows.append(row)
                    print("\t".join(fmt(row[c]) for c in COLS), flush=True)
    finally:
        for d in daemons:
            d.close()
        json.dump(rows, open(os.path.join(args.out, "rows.json"), "w"), indent=1)

    print("\n| round | build | offered req/s | ok req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | restores | 429 | 429 p99 ms | primes | prime ms | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for x in rows:
        print("| " + " | ".join(fmt(x[c]) for c in ["tag", "build", "rate", "ok_rps", "p50", "p90", "p99", "p999", "restores",
                                                      "r429", "r429_p99", "primes", "prime_ms", "load"]) + " |")
    if len(daemons) > 1:
        first = daemons[0].name
        print(f"\npaired p99 ratios against {first} (same round and rate):")
        for x in rows:
            if x["build"] == first:
                continue
            ref = next((y for y in rows if y["build"] == first and y["tag"] == x["tag"] and y["rate"] == x["rate"]), None)
            if ref and ref["p99"] and x["p99"]:
                print(f"  {x['tag']} {x['build']} {x['rate']} req/s: p99 {x['p99']:.1f} / {ref['p99']:.1f} = {x['p99'] / ref['p99']:.3f}")
    for d in daemons:
        ok = [x["rate"] for x in rows if x["build"] == d.name and x["p99"] is not None and x["p99"] <= 100]
        print(f"{d.name}: highest rate with p99 <= 100 ms: {max(ok) if ok else 'none'} (of {sorted(set(rates))})")


if __name__ == "__main__":
    main()
