#!/bin/bash
# Restore latency, paired: f6378fb (before issue 10: no reseed, no sandbox, no jail) against this
# checkout (jail on, as `thaw serve` runs by default), in one command:
#
#   docs/results/2026-11-30-jail/ab2.sh [ROUNDS]          (default 12; run as root)
#
# Builds both jars (old: `git archive f6378fb` into /var/tmp/jf-old, built there; new: this
# checkout), starts two daemons side by side (ports 16051/16052, data in /var/tmp/jailfast-ab),
# deploys hello on both and then, ROUNDS times, a vanilla and a faasnap restore on each side in
# turns (the side that goes first alternates), each after `cache/drop` with no instance running.
# Prints the medians and the paired new/old ratios (median of the per-round ratios, and in how
# many rounds new was slower) for the total and each phase, with the load average; raw lines
# (round mode side total vmm_start state_load host_overhead reseed) go to ab2.out beside this script.
# EXTRA="name:ARGS" adds a third side: the new jar with extra JVM/serve arguments, e.g.
#   EXTRA="jailoff:--vmm-jail off"   or   EXTRA="oldseed:-Dthaw.seed-bytes=64"
# (arguments starting with -D go to the JVM, the rest to `serve`).
set -euo pipefail
ROUNDS=${1:-12}
HERE=$(cd "$(dirname "$0")" && pwd)
NEW=$(cd "$HERE/../../.." && pwd)
OLD=/var/tmp/jf-old
W=/var/tmp/jailfast-ab
OUT=$HERE/ab2.out
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH

if [ ! -f $OLD/target/thaw.jar ]; then
  rm -rf $OLD && mkdir -p $OLD
  git -C "$NEW" archive f6378fb | tar -x -C $OLD
  (cd $OLD && mvn -q -B -o package -DskipTests)
fi
(cd "$NEW" && mvn -q -B -o package -DskipTests)

rm -rf $W && mkdir -p $W
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start() { # side port dir jvm-args serve-args
  local jvm=() srv=()
  for a in $4; do jvm+=("$a"); done
  for a in $5; do srv+=("$a"); done
  (cd "$3" && exec java "${jvm[@]}" -jar target/thaw.jar serve -p "$2" --data-dir $W/$1 "${srv[@]}" > $W/$1.log 2>&1) &
  PIDS+=($!)
}
SIDES=(old new); PORTS=(16051 16052)
start old 16051 $OLD "" ""
start new 16052 "$NEW" "" ""
if [ -n "${EXTRA:-}" ]; then
  name=${EXTRA%%:*}; args=${EXTRA#*:}; jvm=""; srv=""
  for a in $args; do case $a in -D*) jvm="$jvm $a" ;; *) srv="$srv $a" ;; esac; done
  start "$name" 16053 "$NEW" "$jvm" "$srv"
  SIDES+=("$name"); PORTS+=(16053)
fi
for p in "${PORTS[@]}"; do
  for i in $(seq 120); do curl -sf localhost:$p/healthz > /dev/null && break; sleep 1; done
  curl -sf -X PUT localhost:$p/functions/hello -H 'Content-Type: application/json' -d '{"path": "'"$NEW"'/functions/hello"}' > /dev/null \
    || { echo "deploy on $p failed"; exit 1; }
done
for p in "${PORTS[@]}"; do  # wait for the background verification, which reads the snapshot files
  for i in $(seq 120); do curl -s localhost:$p/healthz | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("snapshots_verified", True) else 1)' && break; sleep 1; done
done
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$OUT"
for r in $(seq "$ROUNDS"); do
  for m in vanilla faasnap; do
    order=("${!SIDES[@]}"); [ $((r % 2)) = 0 ] && order=($(printf '%s\n' "${order[@]}" | tac))
    for k in "${order[@]}"; do
      side=${SIDES[$k]}; p=${PORTS[$k]}
      curl -s -X POST localhost:$p/functions/hello/cache/drop > /dev/null
      curl -s -X POST "localhost:$p/functions/hello/invoke?mode=$m" -d '{}' | python3 -c "
import json, sys
d = json.load(sys.stdin); t = d['timing_ms']
print('$r $m $side', *(round(t.get(k, 0), 1) for k in ('total', 'vmm_start', 'state_load', 'host_overhead', 'reseed')))" | tee -a "$OUT"
      for id in $(curl -s localhost:$p/instances | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("instances",d) if isinstance(d,dict) else d; print(" ".join(i["id"] for i in d))'); do
        curl -s -X DELETE localhost:$p/instances/$id > /dev/null
      done
    done
  done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$OUT" "$LOAD0" "$LOAD1" "${SIDES[@]}" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
sides = sys.argv[4:]
phases = ["total", "vmm_start", "state_load", "host_overhead", "reseed"]
v = {}
for r in rows:
    v[(r[0], r[1], r[2])] = dict(zip(phases, map(float, r[3:])))
rounds = sorted({r[0] for r in rows}, key=int)
print("load average before %s, after %s; %d rounds" % (sys.argv[2], sys.argv[3], len(rounds)))
for side in sides[1:]:
    print("\n| mode | phase | old (f6378fb) | %s | paired %s/old | %s slower in |" % (side, side, side))
    print("|---|---|---|---|---|---|")
    for m in ("vanilla", "faasnap"):
        for ph in phases:
            pairs = [(v[(r, m, "old")][ph], v[(r, m, side)][ph]) for r in rounds if (r, m, "old") in v and (r, m, side) in v]
            if not pairs or all(b == 0 for a, b in pairs):
                continue
            ratios = [b / a for a, b in pairs if a > 0]
            ratio = "%.3f" % statistics.median(ratios) if ratios else "-"
            print("| %s | %s | %.1f | %.1f | %s | %d/%d |" % (m, ph, statistics.median(a for a, b in pairs),
                  statistics.median(b for a, b in pairs), ratio, sum(b > a for a, b in pairs), len(pairs)))
EOF
