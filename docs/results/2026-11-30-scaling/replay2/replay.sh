#!/bin/bash
# usage: replay.sh WORKLOAD(extremes|example) POLICY(fixed|histogram)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
R=/var/tmp/rep/docs/results/2026-11-30-scaling
w=$1; pol=$2; port=18202; D=/var/tmp/scaler/replay-data
# speed 20: the fixed 10 min of trace time is 30 s, the histogram's 1-minute bins are 3 s
java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -jar /var/tmp/rep/target/thaw.jar serve --data-dir $D -p $port \
  --keepalive-policy $pol --idle-timeout 30 --histogram-bin 3 > /var/tmp/scaler/q-replay-$w-$pol.serve.log 2>&1 &
pid=$!
for i in $(seq 60); do curl -sf localhost:$port/healthz > /dev/null && break; sleep 1; done
for n in h1 h2 h3 h4; do
  curl -sf localhost:$port/functions/$n > /dev/null || curl -s -X PUT localhost:$port/functions/$n -H 'Content-Type: application/json' -d "{\"path\": \"/var/tmp/scaler/fns/$n\"}" > /dev/null
done
for i in $(seq 120); do curl -s localhost:$port/healthz | grep -q '"snapshots_verified":true' && break; sleep 1; done
echo "== $w $pol $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
java -jar /var/tmp/rep/target/thaw.jar load $R/azure-$w.json --target http://127.0.0.1:$port \
   --json /var/tmp/scaler/q-replay-$w-$pol.json --progress 0 2>&1 | sed -n '/^function/,/^rate:/p'
curl -s localhost:$port/stats > /var/tmp/scaler/q-replay-$w-$pol.stats.json
kill $pid; wait $pid
