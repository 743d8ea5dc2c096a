#!/usr/bin/env bash
# HL7 v2 parse throughput: our codec against the peers, in one run, on one core.
#
#   bash bench/run_parse.sh                       # build if needed, data, ours + peers, summary
#   BUILD_DIR=build-bench RUNS=3 bash bench/run_parse.sh
#   PEERS="simple-hl7" bash bench/run_parse.sh    # choose peers (simple-hl7 medplum python-hl7)
#   SKIP_PEERS=1 bash bench/run_parse.sh          # ours only (or: bash bench/run_parse.sh --no-peers)
#
# What it measures (bench/README.md has the details and the recorded figures):
#   ours   bench/parse_bench.cpp (`hl7gw_bench_parse`) over the mmapped workload, four modes:
#          index (split + index segments), decode (+ every leaf decoded), json (+ writeJson per
#          message) and touch (+ PID-5.1 and every OBX-5.1, the peers' read), each repeated over
#          the whole file for OUR_SECONDS; then index and decode once over a ~100 MB file to show
#          that memory (anonymous RSS) stays O(segments) while the file is only mapped.
#   peers  ../shared/peers/parse_node.js (simple-hl7, @medplum/core) and parse_python_hl7.py
#          (python-hl7): parse + touch, the file split into strings before their clock starts.
# Every process is pinned with `taskset -c $CPU` and runs under `timeout`; each stops by itself
# after MAX_SECONDS. Raw JSON lines go to bench/out/parse.jsonl, the table to bench/out/summary.md.
#
# Knobs: BUILD_DIR (build), HL7BENCH_DATA (/tmp/hl7bench), RUNS (1), MAX_SECONDS (10),
#        OUR_SECONDS (3), CPU (1), PEERS, SKIP_PEERS (0), WORKLOADS (oru_r01 adt_a01).
# The shared peers folder is read-only: its scripts and lock file are copied to bench/out/peers/
# and `npm ci` runs there. Network use: the npm registry (npm ci) and Debian (python3-hl7), once.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
DATA=${HL7BENCH_DATA:-/tmp/hl7bench}
RUNS=${RUNS:-1}
MAX_SECONDS=${MAX_SECONDS:-10}
OUR_SECONDS=${OUR_SECONDS:-3}
CPU=${CPU:-1}
PEERS=${PEERS:-"simple-hl7 medplum python-hl7"}
SKIP_PEERS=${SKIP_PEERS:-0}
WORKLOADS=${WORKLOADS:-"oru_r01 adt_a01"}
SHARED_PEERS=$ROOT/../shared/peers
OUT=$ROOT/bench/out
RUN_TIMEOUT=$((MAX_SECONDS * 6 + 60)) # loading 200 MB into node/python takes a while
for arg in "$@"; do
  case $arg in
    --no-peers) SKIP_PEERS=1 ;;
    *) echo "usage: bench/run_parse.sh [--no-peers]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
JSONL=$OUT/parse.jsonl
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log() { echo "== $*" >&2; }

# (a) build
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  log "configuring $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 || exit 1
fi
log "building hl7gw_bench_parse in $BUILD_DIR"
ninja -C "$BUILD_DIR" -j2 hl7gw_bench_parse >&2 || exit 1
BENCH=$ROOT/$BUILD_DIR/bin/hl7gw_bench_parse

# (b) workload
for w in $WORKLOADS; do
  if [ ! -s "$DATA/$w.txt" ]; then
    log "generating the workload into $DATA"
    timeout 600 /usr/bin/python3 "$SHARED_PEERS/gen_workload.py" --out "$DATA" >/dev/null || exit 1
    break
  fi
done
BIG=$DATA/big_100mb.txt
if [ ! -s "$BIG" ]; then
  # ~100 MB of whole messages made from the workload: ADT once, then ORU up to the size.
  log "making $BIG"
  { cat "$DATA/adt_a01.txt"; head -n 17000 "$DATA/oru_r01.txt"; } > "$BIG.tmp" && mv "$BIG.tmp" "$BIG"
fi

# (c) peers: a private copy of the pinned peers, installed with npm ci
if [ "$SKIP_PEERS" != 1 ]; then
  PEER_DIR=$OUT/peers
  mkdir -p "$PEER_DIR"
  for f in package.json package-lock.json parse_node.js parse_python_hl7.py; do
    cmp -s "$SHARED_PEERS/$f" "$PEER_DIR/$f" || cp "$SHARED_PEERS/$f" "$PEER_DIR/$f"
  done
  if [[ " $PEERS " == *" simple-hl7 "* || " $PEERS " == *" medplum "* ]]; then
    if [ ! -d "$PEER_DIR/node_modules" ] || [ "$PEER_DIR/package-lock.json" -nt "$PEER_DIR/node_modules" ]; then
      log "npm ci in $PEER_DIR"
      (cd "$PEER_DIR" && timeout 600 npm ci --no-audit --no-fund >&2) || exit 1
      touch "$PEER_DIR/node_modules"
    fi
  fi
  if [[ " $PEERS " == *" python-hl7 "* ]] && ! /usr/bin/python3 -c 'import hl7' 2>/dev/null; then
    log "installing python3-hl7"
    timeout 600 apt-get install -y python3-hl7 >&2 || exit 1
  fi
fi

# One JSON line per process (ours prints one per mode); failures become a line with failed=true.
record() { # run workload peer command...
  local run=$1 w=$2 peer=$3; shift 3
  local lines rc
  lines=$(timeout "$RUN_TIMEOUT" taskset -c "$CPU" "$@")
  rc=$?
  if [ $rc -ne 0 ] || [ -z "$lines" ]; then
    lines="{\"bench\":\"parse\",\"peer\":\"$peer\",\"workload\":\"$w\",\"failed\":true,\"rc\":$rc}"
  fi
  while IFS= read -r line; do
    echo "${line%\}},\"run\":$run,\"stamp\":\"$STAMP\"}" | tee -a "$JSONL" >&2
  done <<< "$lines"
}

for run in $(seq "$RUNS"); do
  for w in $WORKLOADS; do
    log "run $run: hl7gw $w"
    record "$run" "$w" hl7gw "$BENCH" "$DATA/$w.txt" --seconds "$OUR_SECONDS" --max-seconds "$MAX_SECONDS"
    if [ "$SKIP_PEERS" != 1 ]; then
      for peer in $PEERS; do
        log "run $run: $peer $w"
        if [ "$peer" = python-hl7 ]; then
          record "$run" "$w" "$peer" /usr/bin/python3 "$PEER_DIR/parse_python_hl7.py" "$DATA/$w.txt" \
            --max-seconds "$MAX_SECONDS"
        else
          record "$run" "$w" "$peer" node "$PEER_DIR/parse_node.js" "$peer" "$DATA/$w.txt" \
            --max-seconds "$MAX_SECONDS"
        fi
      done
    fi
  done
  # One pass over ~100 MB in a fresh process: peak and anonymous RSS against the file size.
  log "run $run: hl7gw big_100mb"
  record "$run" big_100mb hl7gw "$BENCH" "$BIG" --modes index,decode --seconds 0 --warmup 0 \
    --max-seconds "$MAX_SECONDS"
done

# (d) summary of this invocation's lines
/usr/bin/python3 - "$JSONL" "$STAMP" "$(stat -c %s "$BIG")" <<'EOF' | tee "$OUT/summary.md"
import json, statistics, sys
path, stamp, big_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(path) if l.strip()]
rows = [r for r in rows if r.get("stamp") == stamp]
PEER_NAMES = {"simple-hl7": "simple-hl7", "@medplum/core": "medplum", "python-hl7": "python-hl7"}
TARGETS = {("oru_r01", "index"): 1000, ("oru_r01", "decode"): 450, ("oru_r01", "json"): 250}
CHECK = {"oru_r01": (241918, 1000000, 3205260), "adt_a01": (241669, 0, 0)}

def med(values):
    return statistics.median(values) if values else None

def fmt(v, d=1):
    return "-" if v is None else f"{v:,.{d}f}"

ours, peers, failed = {}, {}, []
for r in rows:
    if r.get("failed"):
        failed.append(f"{r['peer']} {r['workload']} (rc {r.get('rc')})")
        continue
    if r["peer"] == "hl7gw":
        ours.setdefault((r["workload"], r["mode"]), []).append(r)
    else:
        peers.setdefault((r["workload"], PEER_NAMES.get(r["peer"], r["peer"])), []).append(r)

peer_names = sorted({p for (_, p) in peers}, key=lambda p: [*PEER_NAMES.values(), p].index(p))
print(f"# Parse throughput, {stamp}, one core (taskset), MB = 10^6 bytes, median of runs\n")
head = "| workload | mode | hl7gw MB/s | hl7gw msgs/s |"
sep = "|---|---|---:|---:|"
for p in peer_names:
    head += f" {p} MB/s | ours/{p} |"
    sep += "---:|---:|"
print(head)
print(sep)
for w in ("oru_r01", "adt_a01"):
    for mode in ("index", "decode", "json", "touch"):
        rs = ours.get((w, mode))
        if not rs:
            continue
        mb = med([r["mb_per_s"] for r in rs])
        line = f"| {w} | {mode} | {fmt(mb)} | {fmt(med([r['msgs_per_s'] for r in rs]), 0)} |"
        for p in peer_names:
            pr = peers.get((w, p))
            pmb = med([r["mb_per_s"] for r in pr]) if pr else None
            line += f" {fmt(pmb)} | {fmt(mb / pmb if pmb else None)}x |"
        print(line)
print("\nPeers: parse + touch (PID-5.1, every OBX-5.1); compare with our `touch` row. Our other")
print("rows do more (decode: every leaf; json: the whole message) or less (index) than the peers.\n")
print("| peer | workload | MB/s | msgs/s | messages | complete | PID-5.1 / OBX-5 count / OBX-5 chars |")
print("|---|---|---:|---:|---:|---|---|")
for (w, p), rs in sorted(peers.items()):
    r = rs[0]
    print(f"| {p} | {w} | {fmt(med([x['mb_per_s'] for x in rs]))} | "
          f"{fmt(med([x['msgs_per_s'] for x in rs]), 0)} | {r['messages']:,} | {r['complete']} | "
          f"{r.get('pid5_chars')} / {r.get('obx5_count')} / {r.get('obx5_chars')} |")

print("\n| target (ORU^R01, one core) | needed | hl7gw | result |")
print("|---|---:|---:|---|")
for (w, mode), need in TARGETS.items():
    rs = ours.get((w, mode))
    got = med([r["mb_per_s"] for r in rs]) if rs else None
    verdict = "-" if got is None else ("PASS" if got >= need else "FAIL")
    print(f"| {mode} MB/s | >= {need} | {fmt(got)} | {verdict} |")
for w, want in CHECK.items():
    rs = ours.get((w, "touch"))
    if rs:
        got = (rs[0]["pid5_chars"], rs[0]["obx5_count"], rs[0]["obx5_chars"])
        full = rs[0]["file_messages"] == 100000
        verdict = ("PASS" if got == want else "FAIL") if full else "n/a (not 100k messages)"
        print(f"| touch sums {w} (PID-5.1 / OBX-5 / OBX-5 chars) | {want} | {got} | {verdict} |")
for mode in ("index", "decode"):
    rs = ours.get(("big_100mb", mode))
    if rs:
        r = rs[0]
        anon_mb = r["rss_anon_kb"] / 1024
        verdict = "PASS" if anon_mb < 64 else "FAIL"
        print(f"| memory, {mode} over {big_size / 1e6:.0f} MB file: anonymous RSS "
              f"(peak RSS incl. mapped file {r['peak_rss_kb'] / 1024:.0f} MB) | < 64 MB | "
              f"{anon_mb:.1f} MB | {verdict} |")
if failed:
    print("\nFailed runs: " + ", ".join(failed))
EOF
