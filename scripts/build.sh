#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default build). Extra arguments go to cmake, e.g.
#   scripts/build.sh -DHL7GW_SANITIZE=ON     (with BUILD_DIR=build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"${JOBS:-2}"
