#!/usr/bin/env bash
# MLLP round trip with durable storage: hl7gw (SQLite, and PostgreSQL) against the peers'
# MLLP servers (simple-hl7, @medplum/hl7: no storage at all) in the same run, all driven by
# the neutral C client ../shared/peers/mllp_bench.c (ADT^A01, one ACK per message, AA and
# MSA-2 = MSH-10 checked), with 1 and 8 connections.
#
#   bash bench/run_mllp.sh                     # ours on sqlite + postgresql, then the peers
#   BACKENDS=sqlite SERVERS= bash bench/run_mllp.sh    # ours on SQLite only, no peers
#   COUNT=20000 RUNS=3 bash bench/run_mllp.sh
#
# Per run it prints mllp_bench's JSON line (msgs/s, p50/p99 latency, server CPU) and adds the
# gateway's peak RSS and, for SQLite, the database size against the message bytes stored.
# Everything binds 127.0.0.1; every process runs under `timeout`; servers are stopped by PID.
# Knobs: BUILD_DIR (build), HL7BENCH_DATA (/tmp/hl7bench), COUNT (20000), RUNS (1),
#        BACKENDS (sqlite postgresql), SERVERS (simple-hl7 medplum), DB_DIR (bench/out/mllp).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
DATA=${HL7BENCH_DATA:-/tmp/hl7bench}
COUNT=${COUNT:-20000}
RUNS=${RUNS:-1}
BACKENDS=${BACKENDS:-"sqlite postgresql"}
SERVERS=${SERVERS-"simple-hl7 medplum"}
OUT=$ROOT/bench/out
DB_DIR=${DB_DIR:-$OUT/mllp}
SHARED_PEERS=$ROOT/../shared/peers
FILE=$DATA/adt_a01.txt
BENCH=$DATA/mllp_bench
log() { echo "run_mllp: $*" >&2; }
mkdir -p "$OUT" "$DB_DIR"

scripts/build.sh >&2 || exit 1
[ -s "$FILE" ] || { log "generating the workload"; timeout 600 /usr/bin/python3 "$SHARED_PEERS/gen_workload.py" --out "$DATA" >/dev/null || exit 1; }
cc -O2 -Wall -pthread -o "$BENCH" "$SHARED_PEERS/mllp_bench.c" || exit 1

SPID=
stop_server() { if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi; SPID=; }
trap 'stop_server' EXIT

rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

bench() { # label conns
  timeout 115 "$BENCH" --port "$PORT" --file "$FILE" --count "$COUNT" --conns "$2" \
    --server-pid "$GWPID" --label "$1"
}

start_gateway() { # url
  cat > "$DB_DIR/gateway.json" <<JSON
{
  "store": {"url": "$1", "retention_days": 0},
  "mllp": [{"name": "bench", "listen": "127.0.0.1:0", "channel": "bench"}],
  "http": {"listen": "127.0.0.1:0"},
  "logging": {"level": "warning"},
  "channels": [{"name": "bench"}]
}
JSON
  local logf=$DB_DIR/gateway.log
  # The start line is logged at information; keep the rest quiet.
  timeout 600 "$BUILD_DIR/bin/hl7gw" serve --config "$DB_DIR/gateway.json" --set logging.level=information >"$logf" 2>&1 &
  SPID=$!
  for _ in $(seq 200); do grep -q " listening:" "$logf" && break; sleep 0.05; done
  PORT=$(sed -n 's/.*mllp bench 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$logf" | head -1)
  [ -n "$PORT" ] || { log "gateway did not start"; cat "$logf" >&2; return 1; }
  # SPID is timeout's; CPU and RSS are read from the gateway itself.
  GWPID=$(pgrep -P "$SPID" -x hl7gw)
}

for run in $(seq "$RUNS"); do
  for backend in $BACKENDS; do
    case $backend in
      sqlite)
        rm -f "$DB_DIR"/gw.db*
        url="sqlite:$DB_DIR/gw.db" ;;
      postgresql)
        eval "$(scripts/pg.sh)" || { log "PostgreSQL did not start"; continue; }
        base=${HL7GW_TEST_PG_URL%/*}
        psql -q -d "$base/postgres" -c "DROP DATABASE IF EXISTS hl7gw_bench WITH (FORCE)" -c "CREATE DATABASE hl7gw_bench" >&2 || continue
        url="$base/hl7gw_bench" ;;
    esac
    start_gateway "$url" || continue
    "$BENCH" --port "$PORT" --file "$FILE" --count 2000 --conns 1 >/dev/null 2>&1 # warm-up
    for conns in 1 8; do
      line=$(bench "hl7gw-$backend" "$conns")
      extra=",\"server\":\"hl7gw\",\"backend\":\"$backend\",\"run\":$run,\"rss_peak_kib\":$(rss_kib "$GWPID")"
      if [ "$backend" = sqlite ]; then
        db=$(du -cb "$DB_DIR"/gw.db* | tail -1 | cut -f1)
        extra="$extra,\"db_bytes\":$db"
      fi
      echo "${line%\}}$extra}" | tee -a "$OUT/mllp.jsonl"
    done
    stored=$("$BUILD_DIR/bin/hl7gw" messages count --config "$DB_DIR/gateway.json")
    log "hl7gw-$backend: $stored messages stored"
    stop_server
    if [ "$backend" = sqlite ]; then
      # Message bytes against the database after a checkpoint (what stays on disk).
      msgbytes=$(head -n "$stored" "$FILE" | awk '{n += length($0)} END {print n}')
      timeout 60 "$BUILD_DIR/bin/hl7gw" messages count --config "$DB_DIR/gateway.json" >/dev/null
      db=$(du -cb "$DB_DIR"/gw.db* | tail -1 | cut -f1)
      echo "{\"bench\":\"mllp-disk\",\"backend\":\"sqlite\",\"messages\":$stored,\"message_bytes\":$msgbytes,\"db_bytes\":$db}" | tee -a "$OUT/mllp.jsonl"
    fi
  done

  if [ -n "$SERVERS" ]; then
    PEER_DIR=$OUT/peers
    mkdir -p "$PEER_DIR"
    for f in package.json package-lock.json mllp_server_node.js; do
      cmp -s "$SHARED_PEERS/$f" "$PEER_DIR/$f" || cp "$SHARED_PEERS/$f" "$PEER_DIR/$f"
    done
    if [ ! -d "$PEER_DIR/node_modules" ]; then
      (cd "$PEER_DIR" && timeout 600 npm ci --no-audit --no-fund >&2) || exit 1
    fi
    for server in $SERVERS; do
      PORT=25791
      (cd "$PEER_DIR" && exec timeout 300 node mllp_server_node.js "$server" --port "$PORT" --max-seconds 280) >"$DB_DIR/peer.log" 2>&1 &
      SPID=$!
      for _ in $(seq 100); do grep -q READY "$DB_DIR/peer.log" && break; sleep 0.1; done
      grep -q READY "$DB_DIR/peer.log" || { log "$server did not start"; stop_server; continue; }
      GWPID=$(pgrep -P "$SPID" -x node)
      "$BENCH" --port "$PORT" --file "$FILE" --count 2000 --conns 1 >/dev/null 2>&1
      for conns in 1 8; do
        line=$(bench "$server" "$conns")
        echo "${line%\}},\"server\":\"$server\",\"backend\":\"none\",\"run\":$run,\"rss_peak_kib\":$(rss_kib "$GWPID")}" | tee -a "$OUT/mllp.jsonl"
      done
      stop_server
    done
  fi
done
