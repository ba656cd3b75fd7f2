#!/bin/bash
# Compares the two working-set record methods on the same snapshot (docs/results/2026-11-30-uffd/ws-compare/README.md):
# a daemon with -Dthaw.record.dump deploys each function, which takes an extra uffd record, the
# uffd record restores use and the pagemap record, and writes their page lists; compare.py prints
# the set differences, the restore-phase faults and every uffd page the pagemap record lacks.
#
#   docs/results/2026-11-30-uffd/ws-compare/run.sh                  # hello and json at the device's read-ahead
#   FUNCTIONS="hello json pyaes" OUT=/var/tmp/wsc docs/results/2026-11-30-uffd/ws-compare/run.sh
#
# The criterion's setting is read_ahead_kb 0: set it first (root; it is the whole device's).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
FUNCTIONS=${FUNCTIONS:-hello json}
PORT=${PORT:-17101}
OUT=${OUT:-/var/tmp/thaw-ws-compare-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/run"
mvn -q -B -o package -DskipTests
THAW_RUN_DIR=$OUT/run java -Dthaw.record.dump="$OUT/dump" -jar target/thaw.jar serve -p "$PORT" --data-dir "$OUT/data" \
  --vmm-pool 0 > "$OUT/serve.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 1; done
for dev in /sys/block/*/queue/read_ahead_kb; do echo "$dev: $(cat "$dev")"; done | tee "$OUT/read-ahead.txt"
uptime | tee "$OUT/load.txt"
for f in $FUNCTIONS; do
  curl -sf -X PUT "http://127.0.0.1:$PORT/functions/$f" -H 'Content-Type: application/json' \
       -d "{\"path\": \"$PWD/functions/$f\"}" > /dev/null
  (cd "$OUT/dump" && python3 "$OLDPWD/docs/results/2026-11-30-uffd/ws-compare/compare.py" "$f")
done | tee "$OUT/compare.txt"
