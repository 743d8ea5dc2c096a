#!/usr/bin/env bash
# End to end through a mapping channel (issue 6 target: >= 5,000 messages/s per core):
# ADT^A01 over MLLP -> stored (fsync) -> ACK, mapped to a FHIR transaction Bundle in the same
# transaction (transform `mapping`), and the Bundle applied to the gateway's own FHIR store by
# the `fhir_store` destination. Reported: the ACK rate (mllp_bench, 8 connections) and the
# end-to-end rate, messages / seconds until every Bundle is in the FHIR store.
#
#   bash bench/run_mapping_channel.sh                   # SQLite, 20,000 messages
#   COUNT=5000 BACKEND=postgresql bash bench/run_mapping_channel.sh
#
# Workload: ../shared/peers/gen_workload.py ADT^A01 (its PID-29/30 slip mended, as in
# bench/run_mapping.sh). Everything binds 127.0.0.1 and runs under `timeout`.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
DATA=${HL7BENCH_DATA:-/tmp/hl7bench}
COUNT=${COUNT:-20000}
CONNS=${CONNS:-8}
WORKERS=${WORKERS:-4} # the fhir_store destination's
BACKEND=${BACKEND:-sqlite}
OUT=$ROOT/bench/out
DIR=$OUT/mapping-channel
BENCH=$DATA/mllp_bench
log() { echo "run_mapping_channel: $*" >&2; }
mkdir -p "$DIR"
scripts/build.sh >&2 || exit 1
SECONDS_PER_MODE=1 LIMIT=10 bash bench/run_mapping.sh >/dev/null || exit 1 # makes the mended workload
FILE=$DATA/adt_a01.mapping.txt
cc -O2 -Wall -pthread -o "$BENCH" ../shared/peers/mllp_bench.c || exit 1

case $BACKEND in
  sqlite) rm -f "$DIR"/gw.db*; url="sqlite:$DIR/gw.db" ;;
  postgresql)
    eval "$(scripts/pg.sh)" || exit 1
    base=${HL7GW_TEST_PG_URL%/*}
    psql -q -d "$base/postgres" -c "DROP DATABASE IF EXISTS hl7gw_mapbench WITH (FORCE)" -c "CREATE DATABASE hl7gw_mapbench" >&2 || exit 1
    url="$base/hl7gw_mapbench" ;;
esac
cat > "$DIR/gateway.json" <<JSON
{
  "store": {"url": "$url", "retention_days": 0},
  "mllp": [{"name": "bench", "listen": "127.0.0.1:0", "channel": "bench"}],
  "http": {"listen": "127.0.0.1:0"},
  "logging": {"level": "warning"},
  "channels": [{
    "name": "bench",
    "transforms": [{"type": "mapping", "mappings_dir": "$ROOT/mappings"}],
    "destinations": [{"name": "bench-fhir", "type": "fhir_store", "order_key": "PID-3.1", "workers": $WORKERS}]
  }]
}
JSON
logf=$DIR/gateway.log
timeout 900 "$BUILD_DIR/bin/hl7gw" serve --config "$DIR/gateway.json" --set logging.level=information >"$logf" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null' EXIT
for _ in $(seq 200); do grep -q " listening:" "$logf" && break; sleep 0.05; done
PORT=$(sed -n 's/.*mllp bench 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$logf" | head -1)
[ -n "$PORT" ] || { log "gateway did not start"; cat "$logf" >&2; exit 1; }
GWPID=$(pgrep -P "$SPID" -x hl7gw)
start=$(date +%s.%N)
line=$(timeout 300 "$BENCH" --port "$PORT" --file "$FILE" --count "$COUNT" --conns "$CONNS" --server-pid "$GWPID" --label "hl7gw-mapping-$BACKEND")
acked=$(date +%s.%N)
echo "$line"
delivered=0
for _ in $(seq 600); do
  delivered=$("$BUILD_DIR/bin/hl7gw" messages count --state delivered --config "$DIR/gateway.json" 2>/dev/null || echo 0)
  [ "$delivered" -ge "$COUNT" ] && break
  sleep 0.5
done
done_at=$(date +%s.%N)
HTTP_PORT=$(sed -n 's/.*, http 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$logf" | head -1)
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$DIR/metrics.txt" || true # batch sizes, commit times
cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$GWPID/stat")
# Bytes the process wrote (syscalls: WAL, checkpoints, sockets) and bytes that reached the disk.
wchar=$(awk '/^wchar:/ {print $2}' "/proc/$GWPID/io")
disk=$(awk '/^write_bytes:/ {print $2}' "/proc/$GWPID/io")
errors=$("$BUILD_DIR/bin/hl7gw" messages count --state error --config "$DIR/gateway.json" 2>/dev/null || echo "?")
awk -v n="$COUNT" -v d="$delivered" -v s="$start" -v a="$acked" -v e="$done_at" -v cpu="$cpu" -v err="$errors" -v b="$BACKEND" -v w="$wchar" -v dk="$disk" 'BEGIN {
  printf "{\"bench\":\"mapping-channel\",\"backend\":\"%s\",\"messages\":%d,\"delivered\":%d,\"errors\":\"%s\",\"ack_msgs_per_s\":%.0f,\"end_to_end_msgs_per_s\":%.0f,\"server_cpu_s\":%.1f,\"msgs_per_cpu_s\":%.0f,\"written_kib_per_msg\":%.1f,\"disk_kib_per_msg\":%.1f}\n",
    b, n, d, err, n / (a - s), d / (e - s), cpu, d / cpu, w / d / 1024, dk / d / 1024 }' | tee -a "$OUT/mapping.jsonl"
