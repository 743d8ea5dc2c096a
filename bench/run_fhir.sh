#!/usr/bin/env bash
# FHIR R4 REST throughput of hl7gw beside nginx, in one run, driven by wrk -t2 -c32 --latency
# (as ../shared/peers/run_http.sh): read by id, search Slot by schedule+date+status, create
# (POST, fsync'd), on SQLite and PostgreSQL; prints req/s, p50, p99, the ratio to nginx of
# the same round, the issue's target, and the gateway's RSS afterwards.
#
#   bash bench/run_fhir.sh                                   # sqlite + postgresql, 3 rounds
#   BACKENDS=sqlite RUNS=2 DURATION=5 bash bench/run_fhir.sh  # quicker
#
# Workloads (Lua in bench/fhir/):
#   nginx   GET of the 1,980-byte minified ../shared/peers/fixtures/appointment.json (static)
#   floor   GET /no-such-path on the gateway (a 10-byte 404: its HTTP stack alone, no store;
#           once per round, on the first backend; FLOOR=0 skips it)
#   read    GET /fhir/Appointment/<id>, rotating over the seeded Appointments (same fixture)
#   search  GET /fhir/Slot?schedule=Schedule/<id>&start=ge<day>T<hour>:00+08:00&status=free,
#           rotating over the 168 hours of the seeded week (pages of 20)
#   create  POST /fhir/Appointment (the fixture, a fresh identifier each), Prefer:
#           return=minimal; the store fsyncs each group commit
# Seeding (bench/fhir/seed.py, through the server's transaction Bundles): 1 Schedule,
# PATIENTS Patients, SLOTS Slots over 2026-12-02..08, APPOINTMENTS Appointments.
#
# Knobs: BACKENDS (sqlite,postgresql; commas or spaces), RUNS (3), DURATION (10 s per wrk run), FLOOR (1),
#        THREADS (2), CONNS (32), SLOTS (5000), APPOINTMENTS (1000), PATIENTS (200),
#        BUILD_DIR (build), BUILD (0: use the binary as it is, build only when missing;
#        1: ninja first), HTTP_THREADS (unset: the config's http.max_threads), WORK
#        (/tmp/hl7gw-fhirbench.PID, removed at the end unless KEEP=1), OUT (bench/out).
# One JSON line per wrk run goes to $OUT/fhir.jsonl. Everything binds 127.0.0.1; every
# process runs under `timeout`; nginx, the gateways and the bench database are stopped /
# dropped by the EXIT trap. About 4.5 minutes with the defaults.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
BACKENDS=$(echo "${BACKENDS:-sqlite,postgresql}" | tr ',' ' ')
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
SLOTS=${SLOTS:-5000}
APPOINTMENTS=${APPOINTMENTS:-1000}
PATIENTS=${PATIENTS:-200}
OUT=${OUT:-$ROOT/bench/out}
WORK=${WORK:-/tmp/hl7gw-fhirbench.$$}
FIXTURE=$ROOT/../shared/peers/fixtures/appointment.json
LUA=$ROOT/bench/fhir
GW=$ROOT/$BUILD_DIR/bin/hl7gw
log() { echo "run_fhir: $*" >&2; }
mkdir -p "$OUT" "$WORK" || exit 1
RESULTS=$WORK/results.jsonl
: > "$RESULTS"

# --- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  log "installing wrk and nginx-light (Debian)"
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq wrk nginx-light >&2 || exit 1
fi
if [ "${BUILD:-0}" = 1 ] || [ ! -x "$GW" ]; then
  timeout 1800 ninja -C "$BUILD_DIR" -j2 hl7gw >&2 || exit 1
fi

# --- cleanup: everything we started, by PID -------------------------------------------------
NGINX_PID=
declare -A GW_TIMEOUT_PID GW_PID GW_PORT
PG_DB=
PG_BASE=
cleanup() {
  for b in "${!GW_PID[@]}"; do
    kill -TERM "${GW_PID[$b]}" 2>/dev/null
  done
  for b in "${!GW_TIMEOUT_PID[@]}"; do
    local t=${GW_TIMEOUT_PID[$b]}
    for _ in $(seq 100); do kill -0 "$t" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$t" 2>/dev/null && kill -KILL "${GW_PID[$b]}" 2>/dev/null
    wait "$t" 2>/dev/null
  done
  if [ -n "$NGINX_PID" ]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
  fi
  if [ -n "$PG_DB" ]; then
    timeout 60 psql -q -d "$PG_BASE/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >&2
  fi
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Bound for every server: the whole run plus slack.
ROUNDS_SECONDS=$((RUNS * (2 + 3 * $(wc -w <<<"$BACKENDS")) * (DURATION + 5)))
SERVER_LIMIT=$((ROUNDS_SECONDS + 600))

# --- nginx, as ../shared/peers/run_http.sh ----------------------------------------------------
NGX=$WORK/nginx
mkdir -p "$NGX/logs" "$NGX/html/fhir/Appointment"
python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"), ensure_ascii=False))' \
  "$FIXTURE" > "$NGX/html/fhir/Appointment/example-2kb" || exit 1
NGINX_BYTES=$(stat -c %s "$NGX/html/fhir/Appointment/example-2kb")
NGINX_PORT=$(free_port)
cat > "$NGX/nginx.conf" <<EOF
worker_processes auto;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=100;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root html;
        default_type application/fhir+json;
        location /fhir/ { }
    }
}
EOF
timeout "$SERVER_LIMIT" nginx -p "$NGX" -c nginx.conf -g 'daemon off;' &
NGINX_PID=$!
NGINX_URL=http://127.0.0.1:$NGINX_PORT/fhir/Appointment/example-2kb
for _ in $(seq 50); do curl -fs -o /dev/null "$NGINX_URL" 2>/dev/null && break; sleep 0.1; done
curl -fs -o /dev/null "$NGINX_URL" || { log "nginx did not start"; cat "$NGX/logs/error.log" >&2; exit 1; }
NGINX_VER=$(nginx -v 2>&1 | sed 's/.*nginx\///')
WRK_VER=$(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo '?')

# --- gateways ---------------------------------------------------------------------------------
start_gateway() { # backend url
  local b=$1 url=$2 dir=$WORK/$1 logf
  mkdir -p "$dir"
  logf=$dir/gateway.log
  local extra=()
  [ -n "${HTTP_THREADS:-}" ] && extra=(--set "http.max_threads=$HTTP_THREADS")
  timeout "$SERVER_LIMIT" "$GW" serve --config conf/gateway.json --set "store.url=$url" \
    --set http.listen=127.0.0.1:0 --set mllp.0.listen=127.0.0.1:0 \
    --set logging.level=information "${extra[@]}" >"$logf" 2>&1 &
  GW_TIMEOUT_PID[$b]=$!
  for _ in $(seq 200); do grep -q " listening:" "$logf" && break; sleep 0.05; done
  local port
  port=$(sed -n 's/.* http 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$logf" | head -1)
  [ -n "$port" ] || { log "$b: gateway did not start"; cat "$logf" >&2; return 1; }
  GW_PORT[$b]=$port
  GW_PID[$b]=$(pgrep -P "${GW_TIMEOUT_PID[$b]}" -x hl7gw)
  log "$b: $(grep -o 'hl7gw [0-9.]* listening:.*' "$logf")"
}

for b in $BACKENDS; do
  case $b in
    sqlite)
      url="sqlite:$WORK/sqlite/db.sqlite" ;;
    postgresql)
      eval "$(bash scripts/pg.sh)" || { log "PostgreSQL did not start"; exit 1; }
      PG_BASE=${HL7GW_TEST_PG_URL%/*}
      PG_DB=hl7gw_fhirbench_$$
      timeout 60 psql -q -d "$PG_BASE/postgres" -c "CREATE DATABASE $PG_DB" >&2 || exit 1
      url="$PG_BASE/$PG_DB" ;;
    *) log "unknown backend $b"; exit 2 ;;
  esac
  start_gateway "$b" "$url" || exit 1
  log "$b: seeding"
  timeout 300 python3 "$LUA/seed.py" "http://127.0.0.1:${GW_PORT[$b]}/fhir" "$WORK/$b/seed" \
    --slots "$SLOTS" --appointments "$APPOINTMENTS" --patients "$PATIENTS" --max-seconds 280 \
    || { log "$b: seeding failed"; exit 1; }
done

# --- rounds -----------------------------------------------------------------------------------
WRK_OPTS=(-t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency)
to_ms() { # 1.23ms | 456.00us | 1.02s -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
                         else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
measure() { # workload backend round url [lua-script lua-arg]
  local workload=$1 backend=$2 round=$3 url=$4
  local script=()
  [ $# -ge 6 ] && script=(-s "$5" "$url" -- "$6")
  [ $# -ge 6 ] || script=("$url")
  local out
  out=$(timeout $((DURATION + 30)) wrk "${WRK_OPTS[@]}" "${script[@]}" 2>&1)
  local rps p50 p99 non2xx sockerr requests
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  sockerr=$(grep -o 'Socket errors:.*' <<<"$out" | tr -d ',')
  local line
  line=$(printf '{"bench":"fhir","workload":"%s","backend":"%s","round":%d,"req_per_s":%s,"requests":%s,"p50_ms":%s,"p99_ms":%s,"non_2xx":%s,"socket_errors":"%s","client":"wrk %s %s","duration_s":%s}' \
    "$workload" "$backend" "$round" "${rps:-0}" "${requests:-0}" "$p50" "$p99" "${non2xx:-0}" "$sockerr" \
    "$WRK_VER" "-t$THREADS -c$CONNS" "$DURATION")
  echo "$line" >> "$RESULTS"
  echo "$line" >> "$OUT/fhir.jsonl"
  log "round $round $workload $backend: ${rps:-0} req/s, p50 ${p50} ms, p99 ${p99} ms${non2xx:+, non-2xx $non2xx}${sockerr:+, $sockerr}"
}

for b in $BACKENDS; do # warm-up, untimed
  base=http://127.0.0.1:${GW_PORT[$b]}/fhir
  timeout 20 wrk -t1 -c4 -d1s -s "$LUA/read.lua" "$base" -- "$WORK/$b/seed/appointment_ids.txt" >/dev/null 2>&1
  timeout 20 wrk -t1 -c4 -d1s -s "$LUA/search.lua" "$base" -- "$(cat "$WORK/$b/seed/schedule_id.txt")" >/dev/null 2>&1
done
FIRST=${BACKENDS%% *}
for round in $(seq "$RUNS"); do
  measure nginx nginx "$round" "$NGINX_URL"
  # The gateway's HTTP stack alone: a 404 outside /fhir, no store, no FHIR code.
  [ "${FLOOR:-1}" = 1 ] && measure floor "$FIRST" "$round" "http://127.0.0.1:${GW_PORT[$FIRST]}/no-such-path"
  for b in $BACKENDS; do
    base=http://127.0.0.1:${GW_PORT[$b]}/fhir
    kill -0 "${GW_PID[$b]}" 2>/dev/null || { log "$b: the gateway is gone"; cat "$WORK/$b/gateway.log" >&2; exit 1; }
    measure read "$b" "$round" "$base" "$LUA/read.lua" "$WORK/$b/seed/appointment_ids.txt"
    measure search "$b" "$round" "$base" "$LUA/search.lua" "$(cat "$WORK/$b/seed/schedule_id.txt")"
    measure create "$b" "$round" "$base" "$LUA/create.lua" "$WORK/$b/seed/create_body.json"
  done
done

# --- memory, sizes -----------------------------------------------------------------------------
MEM=$WORK/memory.txt
: > "$MEM"
for b in $BACKENDS; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/${GW_PID[$b]}/status" 2>/dev/null)
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/${GW_PID[$b]}/status" 2>/dev/null)
  anon=$(awk '/RssAnon/ {print $2}' "/proc/${GW_PID[$b]}/status" 2>/dev/null)
  threads=$(awk '/Threads/ {print $2}' "/proc/${GW_PID[$b]}/status" 2>/dev/null)
  total=$(curl -fs -m 30 "http://127.0.0.1:${GW_PORT[$b]}/fhir/Appointment?_summary=count" |
          python3 -c 'import json,sys; print(json.load(sys.stdin).get("total","?"))' 2>/dev/null)
  db=
  [ "$b" = sqlite ] && db=$(du -cb "$WORK"/sqlite/db.sqlite* 2>/dev/null | tail -1 | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "${rss:-0}" "${hwm:-0}" "${anon:-0}" \
    "${threads:-0}" "${total:-?}" "${db:-}" "$(cat "$WORK/$b/seed/read_body_bytes.txt")" >> "$MEM"
  echo "{\"bench\":\"fhir-memory\",\"backend\":\"$b\",\"rss_kib\":${rss:-0},\"rss_peak_kib\":${hwm:-0},\"rss_anon_kib\":${anon:-0},\"appointments\":\"${total:-?}\",\"db_bytes\":\"${db:-}\"}" >> "$OUT/fhir.jsonl"
done

# --- summary -----------------------------------------------------------------------------------
NOTE=$(cat "$WORK"/*/seed/fixture_note.txt 2>/dev/null | sort -u | tr '\n' ';')
python3 - "$RESULTS" "$MEM" "$NGINX_VER" "$WRK_VER" "$NGINX_BYTES" "$NOTE" "$THREADS" "$CONNS" "$DURATION" <<'PY'
import json, statistics, sys
results, mem, nginx_ver, wrk_ver, nginx_bytes, note, threads, conns, duration = sys.argv[1:]
rows = [json.loads(l) for l in open(results) if l.strip()]
nginx = {r["round"]: r["req_per_s"] for r in rows if r["workload"] == "nginx"}
targets = {"nginx": ("reference", None, None),
           "floor": ("(HTTP stack alone: 404, no store)", None, None),
           "read": (">= 30,000 req/s and >= 0.5x nginx", 30000, 0.5),
           "search": (">= 5,000 req/s", 5000, None),
           "create": (">= 5,000/s (SQLite, fsync)", 5000, None)}
def med(v): return statistics.median(v) if v else float("nan")
def rng(v): return "%s-%s" % (f"{min(v):,.0f}", f"{max(v):,.0f}") if len(v) > 1 else ""
print()
print(f"FHIR REST, wrk {wrk_ver} -t{threads} -c{conns} -d{duration}s, nginx {nginx_ver} "
      f"({nginx_bytes} B static Appointment); medians of {len(nginx)} round(s), min-max in brackets;")
print("ratio = median over rounds of (req/s / nginx req/s of the same round).")
if note: print("Appointment body: " + note.rstrip(";"))
print()
print("| workload | backend | req/s | p50 ms | p99 ms | vs nginx | target | result |")
print("|---|---|---:|---:|---:|---:|---|---|")
order = ["nginx", "floor", "read", "search", "create"]
seen = []
for r in rows:
    k = (r["workload"], r["backend"])
    if k not in seen: seen.append(k)
backends = []
for k in seen:
    if k[1] not in backends: backends.append(k[1])
seen.sort(key=lambda k: (order.index(k[0]), backends.index(k[1])))
for workload, backend in seen:
    rs = [r for r in rows if r["workload"] == workload and r["backend"] == backend]
    rps = [r["req_per_s"] for r in rs]
    ratios = [r["req_per_s"] / nginx[r["round"]] for r in rs if nginx.get(r["round"])]
    bad = 0 if workload == "floor" else sum(int(r["non_2xx"]) for r in rs)
    sock = "; ".join(sorted({r["socket_errors"] for r in rs if r["socket_errors"]}))
    text, need, need_ratio = targets[workload]
    result = ""
    if need is not None:
        ok = med(rps) >= need and (need_ratio is None or med(ratios) >= need_ratio)
        result = "met" if ok else "NOT met"
        if workload == "create" and backend != "sqlite":
            result = "(" + result + ")"
    if bad or sock:
        result += f" [non-2xx {bad}{'; ' + sock if sock else ''}]"
    r = rng(rps)
    print(f"| {workload} | {backend} | {med(rps):,.0f}{' (' + r + ')' if r else ''} | "
          f"{med([x['p50_ms'] for x in rs]):.2f} | {med([x['p99_ms'] for x in rs]):.2f} | "
          f"{med(ratios):.2f}x | {text} | {result} |")
print()
print("| backend | RSS after the runs | peak RSS | anonymous | threads | Appointments stored | SQLite files | read body |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for line in open(mem):
    b, rss, hwm, anon, thr, total, db, body = line.rstrip("\n").split("\t")
    dbs = f"{int(db)/1e6:.1f} MB" if db else "-"
    print(f"| {b} | {int(rss)/1024:.1f} MiB | {int(hwm)/1024:.1f} MiB | {int(anon)/1024:.1f} MiB | "
          f"{thr} | {total} | {dbs} | {body} B |")
PY
