#!/usr/bin/env bash
# Set-up command 1: install what is missing, build, and start the gateway on the embedded
# default configuration (conf/gateway.json: SQLite in var/, MLLP on 127.0.0.1:2575, HTTP on
# 127.0.0.1:8080). Extra arguments go to `hl7gw serve`, e.g. --set http.listen=127.0.0.1:9090.
# Stop it with Ctrl-C (SIGINT) or SIGTERM: it drains and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p var
exec build/bin/hl7gw serve --config conf/gateway.json "$@"
