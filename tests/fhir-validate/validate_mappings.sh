#!/usr/bin/env bash
# Every Bundle the shipped maps make, checked by the independent validators (issue 6: "every
# output is valid FHIR"): the 132 Microsoft corpus messages and our recorded pairs in
# mappings/tests/, mapped by `hl7gw map --out`, then validate.js over all of them.
#   tests/fhir-validate/validate_mappings.sh HL7GW NODE MODULES_DIR CORPUS_DIR PROJECT_DIR
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hl7gw="$1" node="$2" modules="$3" corpus="$4" project="$5"
out=$(mktemp -d /tmp/hl7gw-mapping-validate.XXXXXX)
trap 'rm -rf "$out"' EXIT
failed=0
cd "$project" || exit 1
for input in "$corpus"/hl7v2-to-fhir/microsoft-fhir-converter/*.hl7 mappings/tests/*.hl7; do
    case $input in
        *.expected.hl7) continue ;; # FHIR -> v2 results; the round-trip test maps them back
    esac
    dialect=()
    if [ -f "${input%.hl7}.dialect" ]; then
        dialect=(--dialect "$(tr -d ' \r\n' < "${input%.hl7}.dialect")")
    fi
    if ! "$hl7gw" map "${dialect[@]}" --out "$out" "$input" 2>"$out/error.txt"; then
        echo "validate_mappings: $input does not map:" >&2
        cat "$out/error.txt" >&2
        failed=1
    fi
done
rm -f "$out/error.txt"
count=$(find "$out" -name '*.json' | wc -l)
if [ "$count" -lt 140 ]; then
    echo "validate_mappings: only $count Bundles were written" >&2
    exit 1
fi
"$node" "$here/validate.js" --modules "$modules" --quiet "$out" || failed=1
echo "validate_mappings: $count Bundles checked"
exit $failed
