#!/usr/bin/env bash
# validate.js works at all: it accepts a valid Appointment and rejects a broken one.
#   tests/fhir-validate/self_test.sh [NODE] [MODULES_DIR]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node="${1:-node}"
modules=()
if [ -n "${2:-}" ]; then
    modules=(--modules "$2")
fi
if ! command -v "$node" >/dev/null 2>&1; then
    echo "fhir-validate self test: '$node' not found; install the Debian packages nodejs npm" \
         "(scripts/install-deps.sh), then run tests/fhir-validate/install.sh" >&2
    exit 1
fi
valid='{"resourceType":"Appointment","status":"booked","start":"2025-03-14T09:30:00+08:00","end":"2025-03-14T09:45:00+08:00","participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"}]}'
# Broken for each library: a code outside the required value set (fhir.js), start without
# end (medplum, invariant app-2).
broken='{"resourceType":"Appointment","status":"confirmed","start":"2025-03-14T09:30:00+08:00","participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"}]}'
out=$(printf '%s' "$valid" | "$node" "$here/validate.js" "${modules[@]}" - 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "fhir-validate self test: a valid Appointment was not accepted (exit $rc): $out" >&2
    exit 1
fi
out=$(printf '%s' "$broken" | "$node" "$here/validate.js" "${modules[@]}" - 2>&1)
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q 'medplum:' <<<"$out" || ! grep -q 'fhir.js:' <<<"$out"; then
    echo "fhir-validate self test: a broken Appointment was not rejected by both (exit $rc): $out" >&2
    exit 1
fi
echo "fhir-validate self test: ok"
