#!/usr/bin/env bash
# Long form of the fuzz targets (docs/reliability.md): each target runs for SECONDS (default 600), one after the
# other, at low priority, on a copy of the Release build (so rebuilding the tree meanwhile does not disturb a run).
# Summary lines (target, seconds, inputs, failures and the shortest failing input of each kind) go to
# $OUT/report.txt, each run's full test output to $OUT/<target>.log.
#   tests/fuzz-long.sh [SECONDS] [OUT] [TARGETS]   e.g. tests/fuzz-long.sh 600 /tmp/gatehouse-fuzz router,host-call-marshalling
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
out="${2:-$(mktemp -d /tmp/gatehouse-fuzz.XXXX)}"
only="${3:-}" # comma list of target names; all when empty
mkdir -p "$out"
dotnet build Gatehouse.sln -c Release >"$out/build.log" 2>&1 || { echo "build failed: $out/build.log" >&2; exit 1; }
rm -rf "$out/bin" && mkdir -p "$out/bin"
cp -r tests/Gatehouse.Tests/bin/Release/net10.0 "$out/bin/gatehouse"
cp -r tests/ProxyWasm.Tests/bin/Release/net10.0 "$out/bin/proxywasm"
half=$(( (seconds + 1) / 2 + 30 )) # the header-map target is two properties: together at least SECONDS
run() { # name dll filter seconds
  if [ -n "$only" ] && [[ ",$only," != *",$1,"* ]]; then return; fi
  echo "$(date -u +%FT%TZ) start $1 (${4}s)" >>"$out/report.txt"
  GATEHOUSE_FUZZ_SECONDS="$4" GATEHOUSE_FUZZ_REPORT="$out/report.txt" nice -n 10 \
    dotnet test "$2" --filter "FullyQualifiedName~$3" --logger "console;verbosity=detailed" >"$out/$1.log" 2>&1
  echo "$(date -u +%FT%TZ) end $1 (exit $?)" >>"$out/report.txt"
}
run declarative-parser "$out/bin/gatehouse/Gatehouse.Tests.dll" Reliability.DeclarativeParserFuzzTests "$seconds"
run admin-body-decoder "$out/bin/gatehouse/Gatehouse.Tests.dll" Reliability.AdminBodyFuzzTests "$seconds"
run router "$out/bin/gatehouse/Gatehouse.Tests.dll" Reliability.RouterFuzzTests "$seconds"
run header-map-codec "$out/bin/gatehouse/Gatehouse.Tests.dll" Reliability.HeaderMapFuzzTests "$half"
run host-call-marshalling "$out/bin/proxywasm/ProxyWasm.Tests.dll" Reliability.HostCallFuzzTests "$seconds"
echo "report: $out/report.txt"
