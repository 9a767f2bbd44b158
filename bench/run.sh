#!/usr/bin/env bash
# Gatehouse load benchmark — the method of docs/benchmarks.md (see bench/README.md).
#
#   bench/run.sh                 every scenario; writes bench/results/<date>.md
#   bench/run.sh W2 [G1 ...]     only these scenarios (profiling); table printed and kept in results/local/
#   bench/run.sh soak            10-minute soak with ten filters at half of G1's rate
#   bench/run.sh latency         G1's p99 against nginx's at half of nginx's saturating rate (~4 min)
#   bench/run.sh list            the scenarios
#
# Quick smoke run: BENCH_DURATION=3 BENCH_WARMUP=1 BENCH_REPS=1 bench/run.sh
# Every process started here (nginx, wrk, gatehouse) is stopped on exit, including Ctrl-C.
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"
# shellcheck source=lib/postgres.sh
source "$BENCH_ROOT/bench/lib/postgres.sh"
# shellcheck source=lib/measure.sh
source "$BENCH_ROOT/bench/lib/measure.sh"
# shellcheck source=lib/soak.sh
source "$BENCH_ROOT/bench/lib/soak.sh"
# shellcheck source=lib/latency.sh
source "$BENCH_ROOT/bench/lib/latency.sh"

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# results_path STANDARD SUFFIX: where the markdown goes. Runs at the method's parameters
# (STANDARD=1) go to bench/results/<date><SUFFIX>.md, keeping an existing file of that name
# (then <date><SUFFIX>-<HHMM>.md); anything else goes to bench/results/local/ (git-ignored), so
# quick numbers never pass for real ones.
results_path() {
  local standard=$1 suffix=$2 date stamp base
  date=$(date -u +%F)
  stamp=$(date -u +%H%M%S)
  if [[ $standard == 1 ]]; then
    base="$BENCH_RESULTS_DIR/$date$suffix"
    [[ -e $base.md ]] && base="$base-${stamp:0:4}"
  else
    base="$BENCH_RESULTS_DIR/local/$date-$stamp$suffix"
  fi
  mkdir -p "$(dirname "$base")"
  echo "$base.md"
}

# link_latest FILE: point README's "latest results" line at FILE.
link_latest() {
  local name readme="$BENCH_ROOT/bench/README.md"
  name=$(basename "$1")
  [[ -f $readme ]] || return 0
  sed -i "s#^Latest results: .*#Latest results: [results/$name](results/$name)#" "$readme"
}

export_params() {
  export BENCH_DURATION BENCH_WARMUP BENCH_REPS BENCH_CONNECTIONS BENCH_THREADS BENCH_SUT_CPU BENCH_LOAD_CPU
  if [[ -n $BENCH_GATEHOUSE_BIN ]]; then BENCH_GATEHOUSE_DESC="\`$BENCH_GATEHOUSE_BIN\` (BENCH_GATEHOUSE_BIN)"
  else BENCH_GATEHOUSE_DESC="dotnet publish src/Gatehouse -c Release"; fi
  export BENCH_GATEHOUSE_DESC
  BENCH_LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
  export BENCH_LOADAVG
}

needs_gatehouse() {
  local id
  for id in "$@"; do
    [[ $(python3 "$BENCH_TOOLS/scenarios.py" kind "$id") == gatehouse ]] && return 0
  done
  return 1
}

run_scenarios() {
  local kind=$1 id out
  shift
  for id in "$@"; do python3 "$BENCH_TOOLS/scenarios.py" kind "$id" >/dev/null || exit 2; done
  ensure_tools
  init_tmp
  export_params
  start_upstream_once
  if needs_gatehouse "$@"; then
    publish_gatehouse
    [[ -n $GATEHOUSE_UNAVAILABLE ]] && log "Gatehouse not available: $GATEHOUSE_UNAVAILABLE"
  fi
  for id in "$@"; do setup_scenario "$id"; done
  measure "$@"
  after_runs "$@"
  write_status "$@"
  for id in "$@"; do [[ ${S_STATUS[$id]} == ok ]] && retire "$id"; done
  local flag= suffix
  [[ $kind == full ]] && standard_params && flag=--standard
  if [[ -n $flag ]]; then suffix=""; elif [[ $kind == full ]]; then suffix="-quick"; else suffix=$(printf -- '-%s' "$@"); fi
  out=$(results_path "$([[ -n $flag ]] && echo 1 || echo 0)" "$suffix")
  python3 "$BENCH_TOOLS/report.py" --raw "$BENCH_TMP/raw.tsv" --status "$BENCH_TMP/status.tsv" \
    --out "$out" --title "Gatehouse benchmark, $(date -u +'%F %H:%M') UTC" $flag || die "report failed"
  [[ -n $flag ]] && link_latest "$out"
  log "results: $out"
}

main() {
  case ${1:-} in
    -h|--help|help) usage ;;
    list) python3 "$BENCH_ROOT/bench/tools/scenarios.py" describe ;;
    soak) run_soak ;;
    latency) run_latency ;;
    "") # shellcheck disable=SC2046
        run_scenarios full $(python3 "$BENCH_ROOT/bench/tools/scenarios.py" full) ;;
    *) run_scenarios subset "$@" ;;
  esac
}

main "$@"
