#!/usr/bin/env python3
"""Where a run's tail comes from: a 'thaw load --csv' file per second of the run (calls, 429s,
ok p50/p99/max) and its slowest ok calls (sent at, latency, instance).

  timeline.py /var/tmp/prime-loadrun/r1-new-145.csv [--slowest 20]
"""
import argparse
import csv
from collections import defaultdict


def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--slowest", type=int, default=20)
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv)))
    by_s = defaultdict(list)
    refused = defaultdict(int)
    ok = []
    for r in rows:
        s = int(float(r["scheduled_ms"] or 0) // 1000)
        if r["status"] == "200":
            lat = float(r["latency_ms"])
            by_s[s].append(lat)
            ok.append((lat, float(r["sent_ms"] or 0), r["instance"]))
        elif r["status"] == "429":
            refused[s] += 1
    print("second  ok  429   p50    p99    max")
    for s in sorted(set(by_s) | set(refused)):
        v = by_s[s]
        print(f"{s:6d} {len(v):4d} {refused[s]:4d} {pct(v, 50):6.1f} {pct(v, 99):6.1f} {max(v) if v else 0:6.1f}")
    print(f"\nslowest {a.slowest} ok calls: latency ms, sent at ms, instance")
    for lat, sent, inst in sorted(ok, reverse=True)[:a.slowest]:
        print(f"  {lat:8.1f} {sent:9.1f} {inst}")


if __name__ == "__main__":
    main()
