#!/usr/bin/env bash
# Set-up command 1: install what is missing, build, and start the gateway on the embedded
# default configuration (conf/gateway.json). Until the server lands (engine issue), "start"
# means: run the codec over the sample messages and print one summary line per message.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "hl7gw: parsing the sample messages in tests/data/hl7v2 (config conf/gateway.json)" >&2
exec build/bin/hl7gw parse --to summary tests/data/hl7v2/*.hl7
