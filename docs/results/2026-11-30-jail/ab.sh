#!/bin/bash
# A/B: hello restore-to-reply, OLD vs NEW checkout (each with target/thaw.jar built), vanilla and
# faasnap in turns, each call after cache/drop with instances stopped.
# Usage: ab.sh OLD_CHECKOUT NEW_CHECKOUT   (e.g. a worktree of f6378fb, and this repository)
OLD=${1:?old checkout}; NEW=${2:?new checkout}
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
rm -rf /var/tmp/ab; mkdir -p /var/tmp/ab
(cd "$OLD" && java -jar target/thaw.jar serve -p 18951 --data-dir /var/tmp/ab/old > /var/tmp/ab/old.log 2>&1 &)
(cd "$NEW" && java -jar target/thaw.jar serve -p 18952 --data-dir /var/tmp/ab/new > /var/tmp/ab/new.log 2>&1 &)
for p in 18951 18952; do for i in $(seq 60); do curl -sf localhost:$p/healthz >/dev/null && break; sleep 1; done; done
for p in 18951 18952; do curl -s -X PUT localhost:$p/functions/hello -H 'Content-Type: application/json' -d '{"path": "'$NEW'/functions/hello"}' | head -c 100; echo; done
for r in $(seq 8); do
  for m in vanilla faasnap; do
    for side in old new; do
      p=18951; [ $side = new ] && p=18952
      curl -s -X POST localhost:$p/functions/hello/cache/drop > /dev/null
      curl -s -X POST "localhost:$p/functions/hello/invoke?mode=$m" -d '{}' | python3 -c "import json,sys; d=json.load(sys.stdin); t=d['timing_ms']; print('$r $m $side', round(t['total'],1), round(t.get('vmm_start',0),1), round(t.get('state_load',0),1), round(t.get('host_overhead',0),1))"
      for id in $(curl -s localhost:$p/instances | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("instances",d) if isinstance(d,dict) else d; print(" ".join(i["id"] for i in d))'); do curl -s -X DELETE localhost:$p/instances/$id > /dev/null; done
    done
  done
done
pkill -f 'serve -p 1895[12]'
