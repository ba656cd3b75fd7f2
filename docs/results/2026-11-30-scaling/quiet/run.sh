#!/bin/bash
# Issue 12's table on a quiet machine: hello, 4 prewarmed, Poisson stream, warm mode, 30 s per rate.
# usage: run.sh [--jar PATH] [--port P] [--data-dir DIR] RATE...   (defaults: target/thaw.jar, 18901, /var/tmp/m2/data)
# Paired runs of several builds and a rate search: ../prime/loadrun.py.
set -u
cd "$(dirname "$0")/../../../.."   # the repository root
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
JAR=target/thaw.jar; P=18901; DATA=/var/tmp/m2/data
while [ $# -gt 0 ]; do
  case "$1" in
    --jar) JAR=$2; shift 2 ;;
    --port) P=$2; shift 2 ;;
    --data-dir) DATA=$2; shift 2 ;;
    *) break ;;
  esac
done
U=http://127.0.0.1:$P; OUT=/var/tmp/scale-$P; mkdir -p $OUT
java -jar $JAR serve -p $P --data-dir $DATA --max-queue-wait 100 > $OUT/serve.log 2>&1 &
D=$!
for i in $(seq 60); do curl -sf $U/healthz >/dev/null && break; sleep 1; done
curl -s -X PUT $U/functions/hello -H 'Content-Type: application/json' -d "{\"path\": \"$PWD/functions/hello\"}" > /dev/null
for rate in "$@"; do
  for id in $(curl -s $U/instances | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("instances",d) if isinstance(d,dict) else d; print(" ".join(i["id"] for i in d))'); do curl -s -X DELETE $U/instances/$id >/dev/null; done
  curl -s -X POST "$U/functions/hello/prewarm?count=4" > /dev/null
  sleep 3
  f=docs/results/2026-11-30-scaling/hello-$rate.json
  if [ ! -f $f ]; then sed "s/48/$rate/g" docs/results/2026-11-30-scaling/hello-48.json > $OUT/hello-$rate.json; f=$OUT/hello-$rate.json; fi
  java -jar $JAR load $f --target $U --json $OUT/load-$rate.json --progress 0 > $OUT/load-$rate.txt 2>&1
  python3 - $OUT/load-$rate.json $rate <<'PY'
import json,sys
d=json.load(open(sys.argv[1])); s=d.get("summary",d)
def g(*ks):
    x=s
    for k in ks:
        x=x.get(k,{}) if isinstance(x,dict) else {}
    return x
print(sys.argv[2], json.dumps(s)[:2500])
PY
done
kill $D; wait $D
