#!/usr/bin/env bash
# Installs what the gateway needs to build and test, from Debian 12 packages, if missing.
# Idempotent and quiet when everything is there. Needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
    g++ cmake ninja-build pkg-config
    libpoco-dev libxerces-c-dev rapidjson-dev libssl-dev libboost-test-dev
    libpq-dev libsqlite3-dev zlib1g-dev postgresql-15
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js + npm for tests/fhir-validate (Debian 12: nodejs 18 + npm 9; any node >= 18 works).
# By command, not by package: NodeSource's nodejs provides (and conflicts with) npm.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
