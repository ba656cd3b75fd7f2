#!/usr/bin/env python3
"""Summarises ab.sh: per mode, A's and B's median total (ms) over the rounds, the median of the
per-round ratios B/A and in how many rounds B was faster; the thaw install (concurrent prefetch)
and what the page server did; and faasnap per-region against the sparse variant within B."""
import json
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])


def cells(side, r):
    try:
        with open(f"{out}/{side}/r{r}/results.json") as f:
            return {c["mode"]: c for c in json.load(f)["results"]}
    except (OSError, ValueError, KeyError):
        return {}


A = [cells("a", r) for r in range(1, rounds + 1)]
B = [cells("b", r) for r in range(1, rounds + 1)]


def total(c):
    return c.get("total_ms", {}).get("median") if c else None


def phase(c, p):
    return (c or {}).get("phases_ms", {}).get(p)


def mem(c, k):
    m = (c or {}).get("memory", {}).get(k)
    return m and m.get("median")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f(x, spec="{:.0f}"):
    return "-" if x is None else spec.format(x)


print(f"\n{'mode':<16} {'A median':>9} {'B median':>9} {'B/A (paired)':>14}  {'A prefetch':>10} {'B prefetch':>10}  {'A vmm_start':>11} {'B vmm_start':>11}")
for mode in ["vanilla", "cached", "thaw", "reap", "faasnap"]:
    ratios = [total(b.get(mode)) / total(a.get(mode)) for a, b in zip(A, B) if total(a.get(mode)) and total(b.get(mode))]
    faster = sum(1 for x in ratios if x < 1)
    print(f"{mode:<16} {f(med(total(a.get(mode)) for a in A)):>9} {f(med(total(b.get(mode)) for b in B)):>9} "
          f"{(f(med(ratios), '{:.2f}') + f' ({faster}/{len(ratios)})'):>14}  "
          f"{f(med(phase(a.get(mode), 'prefetch') for a in A)):>10} {f(med(phase(b.get(mode), 'prefetch') for b in B)):>10}  "
          f"{f(med(phase(a.get(mode), 'vmm_start') for a in A)):>11} {f(med(phase(b.get(mode), 'vmm_start') for b in B)):>11}")

print("\nthaw mode, page server (medians over rounds): faults, installed pages, service p50/p99 us")
for side, runs in (("A", A), ("B", B)):
    c = [r.get("thaw") for r in runs]
    print(f"  {side}: faults {f(med(mem(x, 'uffd.faults') for x in c))}  installed {f(med(mem(x, 'uffd.installed_pages') for x in c))}"
          f"  p50 {f(med(mem(x, 'uffd.service_p50_us') for x in c), '{:.1f}')}  p99 {f(med(mem(x, 'uffd.service_p99_us') for x in c), '{:.1f}')}")

print("\nwithin each side, per round: thaw / cached, and faasnap / vanilla (median, rounds faster)")
for side, runs in (("A", A), ("B", B)):
    for m, base in (("thaw", "cached"), ("faasnap", "vanilla"), ("faasnap", "cached")):
        rs = [total(r.get(m)) / total(r.get(base)) for r in runs if total(r.get(m)) and total(r.get(base))]
        print(f"  {side} {m}/{base}: {f(med(rs), '{:.2f}')} ({sum(1 for x in rs if x < 1)}/{len(rs)})")
rs = [total(r.get("faasnap")) / total(r.get("faasnap-sparse")) for r in B if total(r.get("faasnap")) and total(r.get("faasnap-sparse"))]
print(f"  B faasnap (per-region) / faasnap-sparse: {f(med(rs), '{:.2f}')} ({sum(1 for x in rs if x < 1)}/{len(rs)})")
for m in ("faasnap", "faasnap-sparse", "vanilla"):
    print(f"  B {m}: VMM disk MiB {f(med((mem(r.get(m), 'disk_read_bytes') or 0) / 2**20 for r in B), '{:.1f}')}, "
          f"major faults {f(med(mem(r.get(m), 'major_faults') for r in B))}")
