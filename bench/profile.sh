#!/usr/bin/env bash
# Profiles one Gatehouse scenario under load, as bench/run.sh sets it up (core 0 for Gatehouse, core 1 for the
# upstream and wrk), and prints what bench/NOTES.md quotes. Not a measurement of the goals: use bench/run.sh.
#
#   bench/profile.sh SCENARIO [cpu|alloc|gc|syscalls] [SECONDS]
#
#   cpu       perf record -g with the runtime's perf map: top symbols (self) and DSOs
#   alloc     dotnet-trace gc-verbose: sampled bytes by type and by first Gatehouse/ProxyWasm frame (bench/tools/allocprof)
#   gc        dotnet-counters System.Runtime: allocation rate, collections, pause time
#   switches  perf record of sched_switch (or BENCH_PROFILE_EVENT, e.g. sched:sched_wakeup: who wakes whom)
#   syscalls  strace -c -f: system calls per request
# Every mode also prints CPU µs and context switches per request over the profiled window.
# BENCH_PROFILE_KEEP=FILE keeps the cpu mode's perf.data (its perf map stays in /tmp/perf-PID.map) for perf report.
# BENCH_PROFILE_PAIR_DIR=DIR (cpu mode) also writes DIR/perf-SCENARIO.script.gz and .requests, for a pair of profiles:
# `bench/tools/perf_pair.py DIR G1 W1` prints CPU µs per request by layer, assembly, owner and frame, and the differences.
# Warm-up: BENCH_WARMUP seconds (default 15) of load before profiling. Needs perf / dotnet-trace / dotnet-counters /
# strace for the matching mode (dotnet tools: `dotnet tool install -g dotnet-trace dotnet-counters`).
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
: "${BENCH_WARMUP:=15}"
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"
# shellcheck source=lib/measure.sh
source "$BENCH_ROOT/bench/lib/measure.sh"

id=${1:-}
mode=${2:-cpu}
secs=${3:-10}
[[ -n $id ]] || { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $(python3 "$BENCH_TOOLS/scenarios.py" kind "$id" 2>/dev/null) == gatehouse ]] || die "$id is not a Gatehouse scenario"
case $mode in
  cpu|switches) command -v perf >/dev/null || die "perf is not installed" ;;
  alloc) command -v dotnet-trace >/dev/null || die "dotnet-trace is not on PATH" ;;
  gc) command -v dotnet-counters >/dev/null || die "dotnet-counters is not on PATH" ;;
  syscalls) command -v strace >/dev/null || die "strace is not installed" ;;
  *) die "unknown mode $mode (cpu, switches, alloc, gc, syscalls)" ;;
esac

ensure_tools
init_tmp
start_upstream_once
publish_gatehouse
[[ -z $GATEHOUSE_UNAVAILABLE ]] || die "$GATEHOUSE_UNAVAILABLE"
# managed frames by name for perf (the perf map needs W^X off to cover jitted code); harmless for the other modes
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
setup_scenario "$id"
[[ ${S_STATUS[$id]:-} == ok ]] || die "$id: ${S_REASON[$id]:-not available}"
pid=${S_PID[$id]}

# load SECONDS: wrk against the scenario in the background; sets LOAD_PID and LOAD_OUT
load() {
  LOAD_OUT="$BENCH_TMP/profile-wrk-$1.txt"
  # shellcheck disable=SC2086
  env ${S_ENV[$id]} taskset -c "$BENCH_LOAD_CPU" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$1s" \
    -s "$BENCH_LUA_DIR/${S_SCRIPT[$id]}" "${S_URL[$id]}" >"$LOAD_OUT" 2>&1 &
  LOAD_PID=$!
  track_pid "$LOAD_PID"
}
switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }

log "$id: warm-up ${BENCH_WARMUP}s"
load "$BENCH_WARMUP"
wait "$LOAD_PID"
load $((secs + 4))
sleep 2
cpu0=$(cpu_ticks "$pid")
cs0=$(switches)
case $mode in
  cpu) perf record -F 999 -g -p "$pid" -o "$BENCH_TMP/perf.data" -- sleep "$secs" >/dev/null 2>&1 ;;
  switches) perf record -e "${BENCH_PROFILE_EVENT:-sched:sched_switch}" -g -p "$pid" -o "$BENCH_TMP/perf.data" -- sleep "$secs" >/dev/null 2>&1 ;;
  alloc) dotnet-trace collect -p "$pid" --profile gc-verbose --duration "00:00:00:$(printf %02d "$secs")" \
           -o "$BENCH_TMP/alloc.nettrace" >/dev/null 2>&1 ;;
  gc) dotnet-counters collect -p "$pid" --counters System.Runtime --refresh-interval "$secs" \
        --duration "00:00:00:$(printf %02d $((secs + 1)))" -f csv -o "$BENCH_TMP/counters.csv" >/dev/null 2>&1 ;;
  syscalls) timeout "$secs" strace -c -f -p "$pid" -o "$BENCH_TMP/strace.txt" >/dev/null 2>&1 ;;
esac
cpu1=$(cpu_ticks "$pid")
cs1=$(switches)
wait "$LOAD_PID"
rps=$(awk '/^Requests\/sec/ { print $2 }' "$LOAD_OUT")
echo "# $id, $mode, ${secs}s under wrk -c$BENCH_CONNECTIONS (${rps:-?} req/s over the whole load run)"
python3 - "$cpu0" "$cpu1" "$cs0" "$cs1" "${rps:-0}" "$secs" "$(getconf CLK_TCK)" <<'EOF'
import sys
cpu0, cpu1, cs0, cs1, rps, secs, tck = (float(a) for a in sys.argv[1:])
requests = rps * secs
if requests:
    print(f"CPU {1e6 * (cpu1 - cpu0) / tck / requests:.1f} µs/request, {(cs1 - cs0) / requests:.3f} context switches/request"
          " (approximate: the profiler's own cost is included)")
EOF
case $mode in
  cpu)
    echo "## by DSO"
    perf report -i "$BENCH_TMP/perf.data" --no-children --sort dso -g none -q 2>/dev/null | head -12
    echo "## top symbols (self)"
    perf report -i "$BENCH_TMP/perf.data" --no-children --sort sym -g none -q 2>/dev/null | head -40 | cut -c1-200
    [[ -z ${BENCH_PROFILE_KEEP:-} ]] || cp "$BENCH_TMP/perf.data" "$BENCH_PROFILE_KEEP"
    if [[ -n ${BENCH_PROFILE_PAIR_DIR:-} ]]; then
      mkdir -p "$BENCH_PROFILE_PAIR_DIR"
      perf script -i "$BENCH_TMP/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | gzip >"$BENCH_PROFILE_PAIR_DIR/perf-$id.script.gz"
      python3 -c "print(round(${rps:-0} * $secs))" >"$BENCH_PROFILE_PAIR_DIR/perf-$id.requests"
    fi
    echo "## Gatehouse/ProxyWasm frames (inclusive: the frame and what it calls)"
    perf report -i "$BENCH_TMP/perf.data" --children --sort sym -g none -q 2>/dev/null \
      | grep -iE '\[(gatehouse|ProxyWasm)\]' | head -"${BENCH_PROFILE_FRAMES:-40}" | cut -c1-220
    ;;
  alloc)
    dotnet run -c Release --project "$BENCH_ROOT/bench/tools/allocprof" -- "$BENCH_TMP/alloc.nettrace" "Gatehouse|ProxyWasm"
    ;;
  switches)
    [[ -z ${BENCH_PROFILE_KEEP:-} ]] || cp "$BENCH_TMP/perf.data" "$BENCH_PROFILE_KEEP"
    echo "## context switches by the managed frames that led to them (caller chains, most frequent first)"
    perf report -i "$BENCH_TMP/perf.data" --no-children --sort sym -g caller,0.5,callee,function,percent -q 2>/dev/null \
      | grep -v '^$' | head -"${BENCH_PROFILE_FRAMES:-80}" | cut -c1-200
    ;;
  gc) cut -d, -f3- "$BENCH_TMP/counters.csv" | grep -E 'total_allocated|collections|pause.time|heap.size' ;;
  syscalls) head -20 "$BENCH_TMP/strace.txt" ;;
esac
