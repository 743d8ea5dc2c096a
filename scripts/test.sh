#!/usr/bin/env bash
# Set-up command 2: install what is missing, build, run every test; then build the codec
# tests with AddressSanitizer + UndefinedBehaviorSanitizer and run them too.
#   SANITIZE=0 scripts/test.sh   skips the sanitizer build (faster local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
tests/fhir-validate/install.sh # the pinned npm validators, into .cache/fhir-validate, once per lock file
scripts/build.sh
# The store tests run every case on SQLite and on PostgreSQL: a throwaway cluster of our own.
pg_env=$(scripts/pg.sh)
eval "$pg_env"
(cd build && ctest --output-on-failure)
if [ "${SANITIZE:-1}" != 0 ]; then
    BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DHL7GW_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    (cd build-asan && ctest --output-on-failure -R '^(core_tests|hl7v2_tests|store_tests|transport_tests|routing_tests|fhir_model_tests|fhir_search_tests|fhir_rest_tests|fhir_server_tests|mapping_tests|booking_tests)$')
fi
