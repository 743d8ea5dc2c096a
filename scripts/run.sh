#!/usr/bin/env bash
# Set-up command 1: install what is missing, build, and start the gateway on the embedded
# default configuration (conf/gateway.json). Until the server lands (engine issue), "start"
# means: run the codec over the sample messages and print one summary line per message.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The inbound channel's defaultCharset in conf/gateway.json is GB 18030: messages without
# MSH-18 are read that way, as the server will read them.
echo "hl7gw: parsing the sample messages in tests/data/hl7v2 (default charset GB 18030-2000, as conf/gateway.json)" >&2
exec build/bin/hl7gw parse --charset "GB 18030-2000" --to summary tests/data/hl7v2/*.hl7
