#!/usr/bin/env bash
# Booking throughput (issue 7 targets: >= 2,000 successful bookings/s on distinct slots and
# >= 10,000 $find/s with SQLite; PostgreSQL reported too), driven by wrk over HTTP:
#   find  POST /fhir/Appointment/$find, one day of the seeded week in turn, 20 offers
#   book  POST /fhir/Appointment/$book, each request a Slot of its own (channel app, every rule
#         on: window, real name, no-show check, one per doctor per day), fsync'd
#   refind  find again, once book has booked a part of the week
# Successful bookings = wrk's requests less its non-2xx answers.
#
#   bash bench/run_booking.sh                       # SQLite, 10 s each
#   BACKENDS="sqlite postgresql" DURATION=5 bash bench/run_booking.sh
#
# Knobs: BACKENDS (sqlite), WORKLOADS (find book refind: refind is find again once book has
# booked a part of the pool), DURATION (10), THREADS (2), CONNS (32), SLOTS (30000),
# PATIENTS (20000; a patient comes back every PATIENTS slots, days apart, so that one-per-doctor-per-day passes), BUILD_DIR (build), OUT (bench/out). One JSON line per run goes to
# $OUT/booking.jsonl. Everything binds 127.0.0.1 and runs under `timeout`.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
BACKENDS=${BACKENDS:-sqlite}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
SLOTS=${SLOTS:-30000}
PATIENTS=${PATIENTS:-20000}
OUT=${OUT:-$ROOT/bench/out}
WORK=$(mktemp -d /tmp/hl7gw-bookbench.XXXXXX)
GW=$ROOT/$BUILD_DIR/bin/hl7gw
log() { echo "run_booking: $*" >&2; }
mkdir -p "$OUT"
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq wrk >&2 || exit 1
[ -x "$GW" ] || scripts/build.sh >&2 || exit 1
GWPID=
cleanup() {
  [ -n "$GWPID" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

for backend in $BACKENDS; do
  case $backend in
    sqlite) url="sqlite:$WORK/$backend/gw.db" ;;
    postgresql)
      eval "$(scripts/pg.sh)" || exit 1
      base=${HL7GW_TEST_PG_URL%/*}
      psql -q -d "$base/postgres" -c "DROP DATABASE IF EXISTS hl7gw_bookbench WITH (FORCE)" -c "CREATE DATABASE hl7gw_bookbench" >&2 || exit 1
      url="$base/hl7gw_bookbench" ;;
    *) log "unknown backend $backend"; exit 2 ;;
  esac
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/$backend"
  timeout $((DURATION * 4 + 600)) "$GW" serve --config conf/gateway.json --set "store.url=$url" \
    --set "http.listen=127.0.0.1:$port" --set mllp.0.listen=127.0.0.1:0 --set logging.level=warning \
    >"$WORK/$backend/gateway.log" 2>&1 &
  GWPID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  log "$backend: seeding $SLOTS slots, $PATIENTS patients"
  timeout 600 python3 bench/booking/seed.py "http://127.0.0.1:$port/fhir" "$WORK/$backend" \
    --slots "$SLOTS" --patients "$PATIENTS" >/dev/null 2>"$WORK/$backend/seed.log" \
    || { log "seeding failed"; tail -3 "$WORK/$backend/seed.log" >&2; exit 1; }
  for workload in ${WORKLOADS:-find book refind}; do
    script=$workload
    case $workload in
      find|refind) args=("$WORK/$backend/window.txt"); script=find ;;
      book) args=("$WORK/$backend/slot_ids.txt" "$WORK/$backend/patient_ids.txt" "$THREADS") ;;
    esac
    text=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
      -s "bench/booking/$script.lua" "http://127.0.0.1:$port/fhir" -- "${args[@]}" 2>&1)
    [ -n "$(sed -n "s/^ *\([0-9]*\) requests in.*/\1/p" <<<"$text")" ] || log "$workload: wrk said: $text"
    requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$text")
    non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$text")
    seconds=$(sed -n 's/.* requests in \([0-9.]*\)s,.*/\1/p' <<<"$text")
    p50=$(awk '$1=="50%"{print $2}' <<<"$text"); p99=$(awk '$1=="99%"{print $2}' <<<"$text")
    awk -v w="$workload" -v b="$backend" -v r="${requests:-0}" -v x="${non2xx:-0}" -v s="${seconds:-1}" \
        -v p50="$p50" -v p99="$p99" 'BEGIN {
      printf "{\"bench\":\"booking\",\"workload\":\"%s\",\"backend\":\"%s\",\"requests\":%d,\"refused\":%d,\"ok_per_s\":%.0f,\"p50\":\"%s\",\"p99\":\"%s\"}\n",
        w, b, r, x, (r - x) / s, p50, p99 }' | tee -a "$OUT/booking.jsonl"
  done
  booked=$(curl -s "http://127.0.0.1:$port/fhir/Appointment?status=booked&_summary=count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  log "$backend: $booked Appointments booked in the store"
  kill "$GWPID"; wait "$GWPID" 2>/dev/null; GWPID=
done
