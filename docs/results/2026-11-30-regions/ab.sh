#!/bin/bash
# Before/after of the thaw mode's install (issue 11, helper E) and the per-region faasnap, on hello:
# two daemons side by side — A = the commit before (BEFORE, default 203fcdf: ConcurrentInstall
# reads the memory file after the handshake; faasnap = the sparse file), B = this tree (the
# install reads ws.pages before QEMU starts; faasnap = per-region mapping, faasnap-sparse the old
# one) — and ROUNDS rounds of one bench run on A then one on B, so round k of both shares the
# host's load. Prints, per mode, the medians and the paired B/A ratios; load averages are recorded.
#
#   docs/results/2026-11-30-regions/ab.sh            # ROUNDS=5, OUT=/var/tmp/regions-ab
# Needs root (the jail); uses ports 18010/18011. Leaves read_ahead_kb alone (it records it).
set -eu
cd "$(dirname "$0")/../../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
BEFORE=${BEFORE:-203fcdf}
ROUNDS=${ROUNDS:-5}
OUT=${OUT:-/var/tmp/regions-ab}
FUNCTION=${FUNCTION:-hello}
mkdir -p "$OUT/before-src" "$OUT/a" "$OUT/b"
if [ ! -f "$OUT/before-src/target/thaw.jar" ]; then
  git archive "$BEFORE" | tar -x -C "$OUT/before-src"
  (cd "$OUT/before-src" && mvn -q -B -o package -DskipTests)
fi
mvn -q -B -o package -DskipTests
mkdir -p "$OUT/after"; cp target/thaw.jar "$OUT/after/thaw.jar"; rm -rf "$OUT/after/lib"; cp -r target/lib "$OUT/after/lib"  # rebuilding the tree mid-run cannot change B

start() { # name jar port
  mkdir -p "$OUT/$1/run"
  THAW_RUN_DIR=$OUT/$1/run java -jar "$2" serve -p "$3" --data-dir "$OUT/$1/data" > "$OUT/$1/serve.log" 2>&1 &
  echo $!
}
A=$(start a "$OUT/before-src/target/thaw.jar" 18010)
B=$(start b "$OUT/after/thaw.jar" 18011)
trap 'kill $A $B 2>/dev/null; wait $A $B 2>/dev/null || true' EXIT
for p in 18010 18011; do
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$p/healthz" > /dev/null && break; sleep 1; done
done
scenario() { # file modes
  cat > "$1" <<JSON
{"name": "regions-ab", "description": "thaw install and faasnap before/after, one run per round", "functions": ["$FUNCTION"],
 "input": "test", "modes": [$2], "runs": 1}
JSON
}
scenario "$OUT/a.json" '"vanilla", "cached", "thaw", "reap", "faasnap"'
scenario "$OUT/b.json" '"vanilla", "cached", "thaw", "reap", "faasnap", "faasnap-sparse"'
: > "$OUT/load.txt"
for r in $(seq "$ROUNDS"); do
  echo "round $r $(cat /proc/loadavg)" | tee -a "$OUT/load.txt"
  java -jar "$OUT/before-src/target/thaw.jar" bench "$OUT/a.json" --functions-dir "$PWD/functions" --daemon http://127.0.0.1:18010 --out "$OUT/a/r$r" > "$OUT/a/r$r.txt" 2>&1
  java -jar "$OUT/after/thaw.jar" bench "$OUT/b.json" --functions-dir "$PWD/functions" --daemon http://127.0.0.1:18011 --out "$OUT/b/r$r" > "$OUT/b/r$r.txt" 2>&1
done
echo "end $(cat /proc/loadavg)" | tee -a "$OUT/load.txt"
python3 docs/results/2026-11-30-regions/ab.py "$OUT" "$ROUNDS"
