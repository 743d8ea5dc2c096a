#!/usr/bin/env bash
# Every recorded FHIR -> v2 output must pass `hl7gw validate` (issue 6: "every FHIR -> v2 output
# is a valid message"): mappings/tests/*.expected.hl7, the messages `hl7gw test mappings` compares
# the outbound maps against, checked one by one against the v2.5.1 structures and segment
# definitions (required fields, segment order). Warnings (a code outside a user-defined table,
# such as the GB/T 2261.1 sex codes of the HIS dialect) are printed but do not fail.
#   tests/mapping-validate/validate_outputs.sh HL7GW [PROJECT_DIR]
# PROJECT_DIR defaults to the checkout this script is in. Exit 0 when every file is valid, 1
# when one is not (or none is found), 2 on a usage error.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 HL7GW [PROJECT_DIR]" >&2
    exit 2
fi
hl7gw="$1"
project="${2:-$(cd "$(dirname "$0")/../.." && pwd)}"
if [ ! -x "$hl7gw" ]; then
    echo "validate_outputs: $hl7gw is not an executable" >&2
    exit 2
fi

shopt -s nullglob
files=("$project"/mappings/tests/*.expected.hl7)
if [ ${#files[@]} -eq 0 ]; then
    echo "validate_outputs: no mappings/tests/*.expected.hl7 under $project" >&2
    exit 1
fi

failed=0
for file in "${files[@]}"; do
    name="${file#"$project"/}"
    status=0
    output=$("$hl7gw" validate "$file" 2>&1) || status=$?
    if [ "$status" -eq 0 ]; then
        echo "ok      $name"
    else
        echo "FAIL    $name (exit $status)"
        failed=$((failed + 1))
    fi
    # The validator's findings (errors, warnings) and its own total line, indented.
    while IFS= read -r line; do
        case $line in
            total*) ;;
            "") ;;
            *) echo "  $line" ;;
        esac
    done <<< "$output"
done

printf 'total\tfiles=%d\tfailed=%d\n' "${#files[@]}" "$failed"
[ "$failed" -eq 0 ] || exit 1
