#!/bin/sh
# Reproduces docs/results/2026-11-30-pool with one command: builds the jar, starts a daemon with
# the VMM pool (--vmm-pool 1), benches hello in five modes in turns (scenario.json), and keeps the
# daemon's /stats (the pool's hits and misses) and the load average beside the report.
#   docs/results/2026-11-30-pool/run.sh [OUT_DIR]     (env: PORT, DIR, SCENARIO: another scenario file)
set -eu
cd "$(dirname "$0")/../../.."
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
PORT=${PORT:-14000}
DIR=${DIR:-/var/tmp/pool-bench}
OUT=${1:-$DIR/out-$(date +%H%M%S)}
mvn -q -B -o package -DskipTests
mkdir -p "$DIR" "$OUT"
THAW_RUN_DIR="$DIR/run" java -jar target/thaw.jar serve --data-dir "$DIR/data" -p "$PORT" --vmm-pool 1 >"$OUT/serve.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null || true' EXIT
until curl -sf "localhost:$PORT/healthz" >/dev/null; do
    kill -0 $DAEMON || { cat "$OUT/serve.log"; exit 1; }
    sleep 1
done
uptime >"$OUT/load.txt"
java -jar target/thaw.jar bench "${SCENARIO:-docs/results/2026-11-30-pool/scenario.json}" --daemon "http://127.0.0.1:$PORT" --out "$OUT"
uptime >>"$OUT/load.txt"
curl -s "localhost:$PORT/stats" >"$OUT/stats.json"
echo "report: $OUT"
python3 docs/results/2026-11-30-pool/summarize.py "$OUT/invocations.csv" | tee "$OUT/summary.md"
