#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz and fuzzes the ER7 codec for a
# bounded time, seeded with every file of ../shared/corpus/hl7v2/ and tests/data/hl7v2/
# (copied into build-fuzz/fuzz-work; the shared corpus is never written to).
#
#   bash scripts/fuzz.sh                  # 60 s
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh
#   FUZZ_CPU=0 bash scripts/fuzz.sh       # pin to one CPU (keeps the other free for benchmarks)
#
# Exits 0 when nothing was found, 1 when libFuzzer found a crash, a sanitizer report, a broken
# invariant or a hang (-timeout=10 s per input), and prints where the input was saved. Replay one
# with: build-fuzz/bin/er7_fuzz <file>. The corpus grows in build-fuzz/fuzz-work/er7/corpus and
# is reused by the next run. A fixed crash's input belongs in tests/data/hl7v2/fuzz-regressions/.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
WORK=$ROOT/$BUILD/fuzz-work/er7
PIN=()
if [ -n "${FUZZ_CPU:-}" ]; then
  PIN=(taskset -c "$FUZZ_CPU")
fi

scripts/install-deps.sh
# libFuzzer and the sanitizer runtimes come with Debian's clang and libclang-rt-14-dev.
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "ok installed"; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang libclang-rt-14-dev >/dev/null || exit 2
fi

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHL7GW_FUZZ=ON -DHL7GW_TESTS=ON || exit 2
fi
ninja -C "$BUILD" -j2 er7_fuzz || exit 2

rm -rf "$WORK/seeds"
mkdir -p "$WORK/seeds" "$WORK/corpus" "$WORK/artifacts"
# Flattened copies: a/b/c.hl7 -> a__b__c.hl7, so names stay unique and readable.
for dir in "$ROOT/../shared/corpus/hl7v2" "$ROOT/tests/data/hl7v2"; do
  [ -d "$dir" ] || continue
  (cd "$dir" && find . -type f -print0) | while IFS= read -r -d '' f; do
    name=${f#./}
    cp "$dir/$name" "$WORK/seeds/$(basename "$dir")__${name//\//__}"
  done
done
echo "seeds: $(find "$WORK/seeds" -type f | wc -l) files; corpus: $(find "$WORK/corpus" -type f | wc -l) files"

marker=$(mktemp)
timeout $((FUZZ_SECONDS + 300)) "${PIN[@]}" "$BUILD/bin/er7_fuzz" \
  -max_len=200000 -timeout=10 -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
  -artifact_prefix="$WORK/artifacts/" "$WORK/corpus" "$WORK/seeds"
rc=$?
found=$(find "$WORK/artifacts" -type f -newer "$marker")
rm -f "$marker"
if [ $rc -ne 0 ] || [ -n "$found" ]; then
  echo "er7_fuzz: FAILED (exit $rc). Inputs saved:" >&2
  for f in $found; do
    echo "  $f" >&2
  done
  exit 1
fi
echo "er7_fuzz: no crash in ${FUZZ_SECONDS} s"
