#!/usr/bin/env bash
# The gateway keep-alive race, end to end with real parts: a real etcd, two `thaw serve` nodes
# (real QEMU), and two gateways side by side, OLD (without NodeCall) and NEW. Both gateways get the
# same calls, interleaved; then node a is stopped while calls keep coming through both gateways,
# so their pooled connections to a are closed under them. A 502 from a gateway whose call could
# go to b is the race (or a call a had taken: those fail on both gateways alike).
#
# usage: run.sh OLD_JAR NEW_JAR [ROUNDS]     (ports 17210-17241, data under /var/tmp/robust-race)
# example: run.sh /var/tmp/robust-main/target/thaw.jar target/thaw.jar 5
set -euo pipefail
OLD=$(realpath "$1"); NEW=$(realpath "$2"); ROUNDS=${3:-5}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
J=("$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:+UseSerialGC -jar)
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
D=/var/tmp/robust-race; OUT=$(cd "$(dirname "$0")" && pwd)
ETCD=http://127.0.0.1:17210
rm -rf "$D"; mkdir -p "$D"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

etcd --name r --data-dir "$D/etcd" --listen-client-urls $ETCD --advertise-client-urls $ETCD \
     --listen-peer-urls http://127.0.0.1:17211 --initial-advertise-peer-urls http://127.0.0.1:17211 \
     --initial-cluster r=http://127.0.0.1:17211 > "$D/etcd.log" 2>&1 & pids+=($!)
until curl -sf $ETCD/health >/dev/null; do sleep 0.2; done

start_node() { # name port
  "${J[@]}" "$NEW" serve --port "$2" --data-dir "$D/$1" --cluster $ETCD --node-name "$1" \
      --advertise "http://127.0.0.1:$2" --lease-ttl 10 --idle-timeout 600 > "$D/$1.log" 2>&1 &
  echo $!
}
A_PID=$(start_node a 17220); pids+=($A_PID)
B_PID=$(start_node b 17221); pids+=($B_PID)
"${J[@]}" "$OLD" gateway --cluster $ETCD --port 17230 --policy random > "$D/gw-old.log" 2>&1 & pids+=($!)
"${J[@]}" "$NEW" gateway --cluster $ETCD --port 17231 --policy random > "$D/gw-new.log" 2>&1 & pids+=($!)
for p in 17220 17221 17230 17231; do until curl -sf localhost:$p/healthz >/dev/null; do sleep 0.5; done; done

curl -sf -X PUT localhost:17231/functions/hello -H 'Content-Type: application/json' \
     -d "{\"path\": \"$ROOT/functions/hello\"}" > /dev/null
# both nodes hold it (b fetched a's snapshot), and each has a warm instance
until [ "$(curl -s localhost:17231/nodes | grep -o '"hello"' | wc -l)" -ge 2 ]; do sleep 1; done
sleep 5

call() { # port -> "status seconds"; a failure's body goes to errors.txt
  local body; body=$(mktemp -p "$D")
  local r; r=$(curl -s -o "$body" -w '%{http_code} %{time_total}' -X POST "localhost:$1/functions/hello/invoke" -d '{"name":"race"}')
  [ "${r%% *}" = 200 ] || echo "$1 $r $(cat "$body")" >> "$OUT/errors.txt"
  rm -f "$body"; echo "$r"
}
: > "$OUT/errors.txt"
echo "gateway status seconds" > "$OUT/warm.txt"
for i in $(seq 1 $((ROUNDS * 20))); do   # interleaved A/B: OLD then NEW, NEW then OLD
  if (( i % 2 )); then echo "old $(call 17230)" >> "$OUT/warm.txt"; echo "new $(call 17231)" >> "$OUT/warm.txt";
  else echo "new $(call 17231)" >> "$OUT/warm.txt"; echo "old $(call 17230)" >> "$OUT/warm.txt"; fi
done

# node a stops while 2 callers per gateway keep calling: the gateways' pooled connections to a close
echo "gateway status seconds" > "$OUT/stop.txt"
burst() { for k in $(seq 1 40); do echo "$1 $(call "$2")"; done >> "$OUT/stop.txt"; }
burst old 17230 & c1=$!; burst new 17231 & c2=$!; burst old 17230 & c3=$!; burst new 17231 & c4=$!
sleep 1; kill -TERM "$A_PID"
wait $c1 $c2 $c3 $c4
echo "load: $(cat /proc/loadavg)" | tee "$OUT/load.txt"
awk 'NR>1 {n[$1" "$2]++} END {for (k in n) print k, n[k]}' "$OUT/stop.txt" | sort | tee "$OUT/stop-summary.txt"
awk 'NR>1 && $2==200 {print $1, $3}' "$OUT/warm.txt" | sort -k1,1 -k2,2n | awk '{v[$1]=v[$1]" "$2; c[$1]++}
  END {for (g in v) {split(substr(v[g],2), a, " "); printf "%s warm p50 %.1f ms (n=%d)\n", g, a[int(c[g]/2)+1]*1000, c[g]}}' \
  | tee "$OUT/warm-summary.txt"
