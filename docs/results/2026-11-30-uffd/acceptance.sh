#!/bin/bash
# Issue 11's acceptance benchmark in one command (docs/results/2026-11-30-uffd/README.md):
# every suite function, records taken under the read-ahead of the run (--redeploy after setting
# read_ahead_kb), the test input, 5 runs with the modes in turns, at read_ahead_kb 128 and 0;
# then acceptance.py checks each "Done when" criterion against the two results.json files.
#
#   docs/results/2026-11-30-uffd/acceptance.sh                       # the full run (hours on 2 cores under TCG)
#   FUNCTIONS=hello,json RUNS=1 docs/results/2026-11-30-uffd/acceptance.sh   # a quick proof that it works
#
# Environment: FUNCTIONS (comma-separated, default the 11 suite functions), RUNS (5),
# READ_AHEAD ("128 0"), PORT (18090), OUT (/var/tmp/thaw-acceptance-<time>; data dir, run dir,
# the daemon's log and one bench output directory per read-ahead setting go there). Needs root
# (read_ahead_kb, the jail). Exit status 0 only when every criterion passes.
set -euo pipefail
cd "$(dirname "$0")/../../.."   # the repository root
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
FUNCTIONS=${FUNCTIONS:-chameleon,compression,ffmpeg,hello,image,json,matmul,mmap,pagerank,pyaes,spin}
RUNS=${RUNS:-5}
READ_AHEAD=${READ_AHEAD:-128 0}
PORT=${PORT:-18090}
OUT=${OUT:-/var/tmp/thaw-acceptance-$(date -u +%Y%m%d-%H%M%S)}
MODES=${MODES:-'"vanilla", "reap", "faasnap", "cached", "thaw", "uffd", "reap-cache", "faasnap-sparse"'}   # compared pairs side by side: reap|faasnap|cached against vanilla, thaw against cached
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT/run"

mvn -q -B -o package -DskipTests
THAW_RUN_DIR=$OUT/run java -jar target/thaw.jar serve -p "$PORT" --data-dir "$OUT/data" > "$OUT/serve.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "$URL/healthz" > /dev/null && break; sleep 1; done
curl -sf "$URL/healthz" > /dev/null || { echo "the daemon did not start; see $OUT/serve.log" >&2; exit 1; }

results=()
for ra in $READ_AHEAD; do
  dir=$OUT/ra$ra
  mkdir -p "$dir"
  fns=$(echo "$FUNCTIONS" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
  cat > "$dir/scenario.json" <<JSON
{
  "name": "issue11-acceptance-ra$ra",
  "description": "Issue 11's acceptance run at read_ahead_kb $ra: records taken at this setting (redeployed), test input, cold page cache, modes in turns.",
  "functions": [$fns],
  "input": "test",
  "modes": [$MODES],
  "runs": $RUNS
}
JSON
  uptime > "$dir/load-before.txt"
  java -jar target/thaw.jar bench "$dir/scenario.json" --daemon "$URL" --redeploy --read-ahead-kb "$ra" --out "$dir"
  uptime > "$dir/load-after.txt"
  results+=("$dir/results.json")
done
python3 docs/results/2026-11-30-uffd/acceptance.py "${results[@]}" | tee "$OUT/acceptance.txt"
