#!/usr/bin/env bash
# The whole test suite (README's second command): every xunit project in Gatehouse.sln, Release build.
# Ends with one summary line "N passed, N failed, N skipped" summed over the test projects.
set -uo pipefail
cd "$(dirname "$0")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet test Gatehouse.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
awk '/^[[:space:]]+Passed:[[:space:]]+[0-9]+/ {p+=$2} /^[[:space:]]+Failed:[[:space:]]+[0-9]+/ {f+=$2}
     /^[[:space:]]+Skipped:[[:space:]]+[0-9]+/ {s+=$2}
     END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
exit "$rc"
