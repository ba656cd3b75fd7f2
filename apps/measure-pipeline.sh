#!/usr/bin/env bash
# End-to-end latency of the pipeline app with cold callees, with the callees `thaw flow`
# recommends prewarmed, and with every stage warm. Needs a daemon with apps/pipeline deployed
# (thaw app deploy apps/pipeline), curl and python3.
#
#   apps/measure-pipeline.sh [DAEMON_URL] [RUNS] [DELAY_MS]     defaults: http://127.0.0.1:8080 5 500
#
# Per run: "cold" stops every instance of the callees first, so each call restores them;
# "prewarmed" stops them too, then restores one instance of each recommended function with
# POST /functions/{name}/prewarm?count=1 before the timed call; "warm" leaves the instances of the
# previous run running. The entry function is warm throughout, and the snapshot files stay in
# the page cache (no cache drop): what is measured is the restore, not the disk.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
URL=${1:-http://127.0.0.1:8080}
RUNS=${2:-5}
DELAY=${3:-500}
EVENT="{\"records\": 10, \"delay_ms\": $DELAY, \"seed\": 1}"
CALLEES=(pipe-transform pipe-store)

json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1" "${@:2}"; }

stop_instances() {  # stop_instances FUNCTION...: stops their idle instances
  local ids
  ids=$(curl -sf "$URL/instances" | json 'print(" ".join(i["id"] for i in d["instances"] if i["function"] in sys.argv[1:] and i["state"] == "idle"))' "$@")
  for id in $ids; do curl -sf -X DELETE "$URL/instances/$id" >/dev/null; done
}

invoke() {  # prints "client_ms daemon_ms trace_id"
  local out
  out=$(curl -sf -w '\n%{time_total}' -X POST "$URL/functions/pipe-ingest/invoke" -H 'Content-Type: application/json' -d "$EVENT")
  python3 -c 'import json,sys; body,t=sys.stdin.read().strip().rsplit("\n",1); d=json.loads(body); print("%.1f %.1f %s" % (float(t)*1000, d["timing_ms"]["total"], d["trace_id"]))' <<<"$out"
}

median() { python3 -c 'import statistics,sys; print("%.1f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

run_series() {  # run_series NAME SETUP_COMMAND...: RUNS timed calls, each after SETUP
  local name=$1; shift
  CLIENT=(); DAEMON=()
  for ((i = 1; i <= RUNS; i++)); do
    "$@"
    read -r c d t < <(invoke)
    CLIENT+=("$c"); DAEMON+=("$d")
    printf '  %-9s run %d: %8s ms (daemon %8s ms)  trace %s\n' "$name" "$i" "$c" "$d" "$t" >&2
  done
  printf '%s %s %s\n' "$name" "$(median "${CLIENT[@]}")" "$(median "${DAEMON[@]}")" >>"$RESULTS"
}

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
echo "pipeline at $URL: $RUNS runs per series, event $EVENT" >&2
invoke >/dev/null   # the entry function warm, and one instance of every stage

cold_setup() { stop_instances "${CALLEES[@]}"; }
run_series cold cold_setup

echo >&2
echo "thaw flow over the $RUNS cold runs:" >&2
"$ROOT/thaw" flow --daemon "$URL" --function pipe-ingest --limit "$RUNS" --traces 0 | sed -n '/^Cold starts/,$p' >&2
mapfile -t RECOMMENDED < <("$ROOT/thaw" flow --daemon "$URL" --function pipe-ingest --limit "$RUNS" --format json \
  | json 'print("\n".join(r["function"] for r in d["recommendations"]))')
[ ${#RECOMMENDED[@]} -gt 0 ] || { echo "thaw flow recommended nothing to prewarm" >&2; exit 1; }
echo "prewarming before each run: ${RECOMMENDED[*]}" >&2

prewarm_setup() {
  stop_instances "${CALLEES[@]}"
  for f in "${RECOMMENDED[@]}"; do curl -sf -X POST "$URL/functions/$f/prewarm?count=1" >/dev/null; done
}
run_series prewarmed prewarm_setup

noop() { :; }
run_series warm noop

echo
printf '%-10s %18s %18s\n' series "median client ms" "median daemon ms"
while read -r name c d; do printf '%-10s %18s %18s\n' "$name" "$c" "$d"; done <"$RESULTS"
