#!/bin/bash
# Per-region faasnap vs faasnap-sparse: disk bytes QEMU reads (/proc/PID/io read_bytes, the bench's
# disk_read_bytes) and major faults, the two modes in turns (docs/results/2026-11-30-uffd/faasnap-reads/README.md).
#   docs/results/2026-11-30-uffd/faasnap-reads/run.sh          # RUNS=5 FUNCTIONS='"hello", "json"' PORT=17102
# Deploys into its own data dir (records taken at the device's current read_ahead_kb) and prints per-pair ratios.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
RUNS=${RUNS:-5}; PORT=${PORT:-17102}; FUNCTIONS=${FUNCTIONS:-'"hello", "json"'}
OUT=${OUT:-/var/tmp/thaw-faasnap-reads-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/run"
mvn -q -B -o package -DskipTests
THAW_RUN_DIR=$OUT/run java -jar target/thaw.jar serve -p "$PORT" --data-dir "$OUT/data" --vmm-pool 0 > "$OUT/serve.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 1; done
cat > "$OUT/scenario.json" <<JSON
{"name": "faasnap-reads", "description": "per-region faasnap vs faasnap-sparse disk reads, modes in turns",
 "functions": [$FUNCTIONS], "input": "test", "modes": ["faasnap", "faasnap-sparse"], "runs": $RUNS}
JSON
cat /sys/block/*/queue/read_ahead_kb | sort | uniq -c > "$OUT/read-ahead.txt"
uptime > "$OUT/load-before.txt"
java -jar target/thaw.jar bench "$OUT/scenario.json" --daemon "http://127.0.0.1:$PORT" --redeploy --out "$OUT/out"
uptime > "$OUT/load-after.txt"
python3 - "$OUT/out/invocations.csv" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
by = collections.defaultdict(dict)
for r in rows: by[(r['function'], r['run'])][r['mode']] = r
print("function run  faasnap MiB (faults)  sparse MiB (faults)  ratio")
for (f, run), m in sorted(by.items()):
    a, b = m['faasnap'], m['faasnap-sparse']
    ra, rb = int(a['disk_read_bytes']) / 2**20, int(b['disk_read_bytes']) / 2**20
    print(f"{f:8} {run:3} {ra:10.1f} ({a['major_faults']:>2}) {rb:14.1f} ({b['major_faults']:>2})  {ra / rb if rb else float('nan'):.2f}")
PY
