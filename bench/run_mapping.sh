#!/usr/bin/env bash
# v2 -> FHIR mapping throughput on one core (issue 6 target: ADT^A01 -> Bundle >= 20,000/s).
#
#   bash bench/run_mapping.sh                  # build if needed, data, ADT^A01 and ORU^R01
#   SECONDS_PER_MODE=5 CPU=1 bash bench/run_mapping.sh
#
# Data: ../shared/peers/gen_workload.py (deterministic; about a third of the names Chinese).
# The bench (bench/mapping_bench.cpp) parses once, then times parse / parse+map /
# parse+map+JSON, pinned to one CPU with taskset, bounded by SECONDS_PER_MODE per mode.
# No peer runs here: Microsoft FHIR-Converter (.NET, one record per call) and Mirth's Rhino
# transformers are not installed on this machine; the parse figure of the same run is the floor.
# Output: JSON lines to bench/out/mapping.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
DATA=${HL7BENCH_DATA:-/tmp/hl7bench}
CPU=${CPU:-1}
SECONDS_PER_MODE=${SECONDS_PER_MODE:-3}
LIMIT=${LIMIT:-20000}
mkdir -p bench/out
[ -x "$BUILD_DIR/bin/hl7gw_bench_mapping" ] || { cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null; ninja -C "$BUILD_DIR" -j2 hl7gw_bench_mapping; }
[ -f "$DATA/adt_a01.txt" ] || timeout 600 python3 ../shared/peers/gen_workload.py --out "$DATA" >/dev/null
# gen_workload.py writes the death indicator `N` in PID-29 (a DTM, date of death) instead of
# PID-30; our maps refuse that as a data error, as they should. The copy we time has it in
# PID-30, nothing else changed.
for workload in adt_a01 oru_r01; do
  [ -f "$DATA/$workload.mapping.txt" ] || python3 - "$DATA/$workload.txt" "$DATA/$workload.mapping.txt" <<'PY'
import sys
out = open(sys.argv[2], 'wb')
for line in open(sys.argv[1], 'rb'):
    segments = line.rstrip(b'\n').split(b'\r')
    for i, seg in enumerate(segments):
        f = seg.split(b'|')
        if f[0] == b'PID' and len(f) == 30 and f[29] == b'N':
            segments[i] = b'|'.join(f[:29] + [b'', b'N'])
    out.write(b'\r'.join(segments) + b'\n')
PY
done
: > bench/out/mapping.jsonl
for workload in adt_a01 oru_r01; do
  echo "== $workload (first $LIMIT messages, $SECONDS_PER_MODE s per mode, CPU $CPU)"
  timeout $((SECONDS_PER_MODE * 3 + 120)) taskset -c "$CPU" "$BUILD_DIR/bin/hl7gw_bench_mapping" mappings \
    "$DATA/$workload.mapping.txt" --seconds "$SECONDS_PER_MODE" --limit "$LIMIT" |
    sed "s/^{/{\"workload\":\"$workload\",/" | tee -a bench/out/mapping.jsonl
done
