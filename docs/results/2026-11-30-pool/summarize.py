#!/usr/bin/env python3
"""Medians per mode and paired ratios (run k of a mode over run k of the reference) from a thaw
bench invocations.csv: python3 summarize.py OUT_DIR/invocations.csv"""
import csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if not r["error_code"]]
modes = list(dict.fromkeys(r["mode"] for r in rows))
by = {(r["mode"], int(r["run"])): r for r in rows}
cols = ["total_ms", "vmm_start_ms", "vmm_bind_ms", "state_load_ms", "prefetch_ms", "resume_ms", "host_overhead_ms"]

def med(mode, col):
    v = [float(r[col]) for r in rows if r["mode"] == mode and r.get(col)]
    return f"{statistics.median(v):.0f}" if v else "–"

def paired(mode, ref):
    ratios = [float(by[(mode, k)]["total_ms"]) / float(by[(ref, k)]["total_ms"])
              for (m, k) in by if m == mode and (ref, k) in by]
    if not ratios or mode == ref:
        return "–"
    return f"{statistics.median(ratios):.2f} ({sum(x < 1 for x in ratios)}/{len(ratios)})"

print("| mode | " + " | ".join(c.removesuffix("_ms") for c in cols) + " | vs vanilla | vs cached |")
print("|---|" + "---:|" * len(cols) + "---|---|")
for m in modes:
    print(f"| {m} | " + " | ".join(med(m, c) for c in cols) + f" | {paired(m, 'vanilla')} | {paired(m, 'cached')} |")
