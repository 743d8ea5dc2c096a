#!/usr/bin/env bash
# Installs the pinned npm packages of the FHIR validator (package-lock.json) into a cache
# directory, once: `npm ci` runs only when the lock file changed since the last install.
#   tests/fhir-validate/install.sh [DIR]
# DIR: $HL7GW_FHIR_VALIDATE_DIR, else .cache/fhir-validate at the project root (git-ignored).
# Needs node and npm (Debian 12: apt-get install nodejs npm; scripts/install-deps.sh does) and
# the npm registry, once. validate.js itself never touches the network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${1:-${HL7GW_FHIR_VALIDATE_DIR:-$root/.cache/fhir-validate}}"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fhir-validate/install.sh: '$tool' not found; install the Debian packages nodejs npm" \
             "(scripts/install-deps.sh)" >&2
        exit 1
    fi
done

if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
    exit 0
fi
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
echo "fhir-validate: npm ci into $dir" >&2
start=$(date +%s)
# --engine-strict=false: Debian 12 ships Node 18, below the >=20.19 that @medplum declares.
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error --engine-strict=false)
echo "fhir-validate: installed in $(( $(date +%s) - start )) s" >&2
