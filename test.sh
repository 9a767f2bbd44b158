#!/usr/bin/env bash
# The whole test suite (README's second command): the native build published (NativeAOT, for NativeAotBuildTests),
# every xunit project in Gatehouse.sln, Release build, then the benchmark tools' unit checks
# (bench/tools/test_tools.py: report arithmetic, verdicts, scenario configs).
# Ends with the failed tests (name, message, first stack lines), then one summary line
# "N passed, N failed, N skipped" summed over all of them.
set -uo pipefail
cd "$(dirname "$0")"
log="$(mktemp)"
native="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$native"' EXIT
# the native build (README, "Native build"), published once before the suite for NativeAotBuildTests to run
# (unless the caller names one already)
aot_rc=0
if [[ -z ${GATEHOUSE_AOT_EXECUTABLE:-} ]]; then
  echo "publishing the native build (NativeAOT) for NativeAotBuildTests ..."
  dotnet publish src/Gatehouse -c Release -p:PublishAot=true -o "$native/bin" >"$native/publish.log" 2>&1
  aot_rc=$?
  ((aot_rc == 0)) || { tail -n 40 "$native/publish.log"; echo "the native publish failed (exit $aot_rc)"; }
  export GATEHOUSE_AOT_EXECUTABLE="$native/bin/gatehouse"
fi
dotnet test Gatehouse.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
((rc == 0)) && rc=$aot_rc
python3 -m unittest discover -s bench/tools 2>&1 | tee -a "$log"
py_rc=${PIPESTATUS[0]}
((rc == 0)) && rc=$py_rc
# CI keeps only the tail of the output: repeat each failed test's name, message and first stack lines just above
# the summary line so a failure on another machine can be read from that tail.
awk '/^[[:space:]]+Failed [^:[:space:]]/ {n=16; print "----- failed:"} /^(FAIL|ERROR): / {n=12; print "----- failed:"}
     n > 0 {print; n--}' "$log"
awk '/^[[:space:]]+Passed:[[:space:]]+[0-9]+/ {p+=$2} /^[[:space:]]+Failed:[[:space:]]+[0-9]+/ {f+=$2}
     /^[[:space:]]+Skipped:[[:space:]]+[0-9]+/ {s+=$2}
     # unittest: "Ran N tests in T s", then "OK" or "FAILED (failures=F, errors=E, skipped=S)"
     /^Ran [0-9]+ tests? in / {ran=$2}
     /^(OK|FAILED)/ {n=split($0, kv, /[(,= )]+/); pf=0; ps=0
       for (i=1; i<=n; i++) { if (kv[i]=="failures" || kv[i]=="errors") pf+=kv[i+1]; if (kv[i]=="skipped") ps+=kv[i+1] }
       p+=ran-pf-ps; f+=pf; s+=ps}
     END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
exit "$rc"
