#!/usr/bin/env bash
# Issue #16 goal 1: where G1's CPU per request goes, layer by layer (bench/NOTES.md, "proxy floor").
#
#   bench/proxy-floor.sh [VARIANT ...]     default: all six, in this order
#
#   nginx-return    nginx 1 worker answering `return 200 "hello\n"` itself (nginx's floor)
#   kestrel-direct  Kestrel answering the same itself (Kestrel's floor)      bench/tools/proxyfloor
#   nginx           nginx proxy_pass to the upstream (the baseline proxy of bench/run.sh)
#   yarp            Kestrel + YARP IHttpForwarder + SocketsHttpHandler       bench/tools/proxyfloor
#   lean            Kestrel + an experimental minimal HTTP/1.1 client       bench/tools/proxyfloor
#   G1              Gatehouse, 1 service, 1 route (BENCH_GATEHOUSE_BIN, or a Release publish of this checkout)
#
# Method of docs/benchmarks.md: each system under test pinned to core 0, the upstream nginx and wrk on core 1, wrk -t1
# -c64 GET /; a warm-up per variant, then FLOOR_ROUNDS interleaved rounds; every variant must answer 200 "hello\n"
# before it is measured. Per variant: req/s, CPU µs/request (utime+stime from /proc), context switches/request,
# bytes allocated/request (the proxyfloor variants: their GET /_alloc; G1: GC.GetTotalAllocatedBytes through the tool's
# startup hook, read on SIGWINCH) and, in a separate strace -c -f pass of
# FLOOR_STRACE_SECONDS, syscalls/request. Everything started here is stopped on exit (also on error and Ctrl-C).
# Knobs: FLOOR_ROUNDS (5), BENCH_DURATION (15 s per run), BENCH_WARMUP (10), BENCH_SETTLE (5), FLOOR_STRACE_SECONDS
# (5; 0 skips the strace pass), FLOOR_TOOL (a built proxyfloor.dll; default: built here), BENCH_KEEP_TMP=1.
# FLOOR_PERF_SECONDS (0: none) adds a `perf record -g` pass per variant after the strace pass (the runtime's perf map
# on for every variant, so managed frames have names) and bench/tools/perf_pair.py's table: CPU µs per request by
# frame, self and inclusive, for each variant and the difference between the last two named (e.g. `yarp G1`).
# FLOOR_LUA (default: each variant's GET) a wrk script of bench/lua for every variant, e.g. post-1k.lua (1 KiB POST).
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"
# shellcheck source=lib/measure.sh
source "$BENCH_ROOT/bench/lib/measure.sh"

FLOOR_ROUNDS=${FLOOR_ROUNDS:-5}
FLOOR_STRACE_SECONDS=${FLOOR_STRACE_SECONDS:-5}
FLOOR_TOOL=${FLOOR_TOOL:-}
FLOOR_PERF_SECONDS=${FLOOR_PERF_SECONDS:-0}
FLOOR_LUA=${FLOOR_LUA:-}
ALL_VARIANTS=(nginx-return kestrel-direct nginx yarp lean G1)
VARIANTS=("$@")
((${#VARIANTS[@]})) || VARIANTS=("${ALL_VARIANTS[@]}")
for v in "${VARIANTS[@]}"; do
  [[ " ${ALL_VARIANTS[*]} " == *" $v "* ]] || { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; die "unknown variant $v"; }
done
if ((FLOOR_STRACE_SECONDS > 0)) && ! command -v strace >/dev/null; then
  log "strace is not installed: no syscall counts"
  FLOOR_STRACE_SECONDS=0
fi

if ((FLOOR_PERF_SECONDS > 0)); then
  command -v perf >/dev/null || die "FLOOR_PERF_SECONDS needs perf"
  # managed frames by name (the perf map needs W^X off to cover jitted code)
  export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
fi

ensure_tools
command -v dotnet >/dev/null || die "dotnet is required"
init_tmp
start_upstream_once

# build_tool: the proxyfloor tool into the temp dir (no build servers left behind); sets TOOL_DLL or TOOL_ERROR
TOOL_DLL=
TOOL_ERROR=
build_tool() {
  if [[ -n $FLOOR_TOOL ]]; then
    # absolute: G1 loads it as a startup hook, which must be a full path
    [[ -f $FLOOR_TOOL ]] && TOOL_DLL=$(realpath "$FLOOR_TOOL") || TOOL_ERROR="FLOOR_TOOL=$FLOOR_TOOL does not exist"
    return
  fi
  local out="$BENCH_TMP/proxyfloor" logf="$BENCH_TMP/proxyfloor-build.log"
  log "dotnet build bench/tools/proxyfloor -c Release (log: $logf)"
  if DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet build "$BENCH_ROOT/bench/tools/proxyfloor" -c Release -o "$out" -nologo \
       -nodeReuse:false -p:UseSharedCompilation=false >"$logf" 2>&1 && [[ -f $out/proxyfloor.dll ]]; then
    TOOL_DLL=$out/proxyfloor.dll
  else
    TOOL_ERROR="building bench/tools/proxyfloor failed: $(grep -m1 -E 'error' "$logf" | cut -c1-200)"
  fi
}

# answers_hello URL: 200 with the body "hello\n"
answers_hello() {
  local body code
  body="$BENCH_TMP/check.body"
  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 5 "$1" 2>/dev/null)
  [[ $code == 200 && $(cat "$body") == hello ]] || { echo "answered $code $(head -c 80 "$body" 2>/dev/null | tr '\n' ' ')"; return 1; }
}

# own_variant ID PID PORT: registers a variant started here, after checking it answers
own_variant() {
  local id=$1 pid=$2 port=$3 why
  if ! wait_port "$port" "$pid" 30; then na "$id" "did not listen on $port: $(tail -n 3 "$BENCH_TMP/$id.log" 2>/dev/null | tr '\n' ' ')"; stop_tree "$pid"; return; fi
  if ! why=$(answers_hello "http://127.0.0.1:$port/"); then na "$id" "GET / $why"; stop_tree "$pid"; return; fi
  S_STATUS[$id]=ok S_PID[$id]=$pid S_URL[$id]="http://127.0.0.1:$port/" S_SCRIPT[$id]=static.lua S_ENV[$id]=""
  log "$id: ready (pid $pid, ${S_URL[$id]})"
}

setup_variant() {
  local id=$1 port
  case $id in
    nginx) setup_scenario "$id" ;;
    G1)
      # with the tool built, G1 loads its allocation hook (bench/tools/proxyfloor/AllocationHook.cs): bytes per request
      if [[ -n $TOOL_DLL ]]; then
        DOTNET_STARTUP_HOOKS=$TOOL_DLL PROXYFLOOR_ALLOC_FILE=$BENCH_TMP/G1.alloc setup_scenario "$id"
      else
        setup_scenario "$id"
      fi
      ;;
    nginx-return)
      port=$(alloc_ports 1)
      if ! start_nginx nginx-return "$BENCH_SUT_CPU" "$port" "  server {
    listen 127.0.0.1:$port backlog=4096;
    location / { return 200 \"hello\\n\"; }
  }"; then na "$id" "$SERVER_ERROR"; return; fi
      own_variant "$id" "$SERVER_PID" "$port"
      ;;
    kestrel-direct|yarp|lean)
      [[ -n $TOOL_DLL ]] || { na "$id" "$TOOL_ERROR"; return; }
      port=$(alloc_ports 1)
      taskset -c "$BENCH_SUT_CPU" dotnet "$TOOL_DLL" "$id" "$port" "127.0.0.1:$UPSTREAM_PORT" >"$BENCH_TMP/$id.log" 2>&1 &
      track_pid $!
      own_variant "$id" $! "$port"
      ;;
  esac
}

# switches PID...: voluntary + involuntary context switches over every thread of the processes
switches() {
  local pid total=0 v
  for pid in "$@"; do
    v=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }')
    total=$((total + v))
  done
  echo "$total"
}
# allocated ID: bytes the variant allocated so far (the proxyfloor variants; G1 through the allocation hook; else empty)
allocated() {
  local file=$BENCH_TMP/G1.alloc i
  case $1 in
    kestrel-direct|yarp|lean) curl -s --max-time 5 "${S_URL[$1]}_alloc" 2>/dev/null ;;
    G1)
      [[ -n $TOOL_DLL ]] || return 0
      rm -f "$file"
      kill -WINCH "${S_PID[$1]}" 2>/dev/null || return 0
      for ((i = 0; i < 30; i++)); do [[ -s $file ]] && { cat "$file"; return 0; }; sleep 0.1; done
      ;;
  esac
}

# floor_run ID PHASE REP SECONDS: run_wrk (raw.tsv) plus switches and allocations (extra.tsv)
floor_run() {
  local id=$1 pids cs0 cs1 a0 a1 k0 k1
  pids=$(tree_pids "${S_PID[$id]}")
  a0=$(allocated "$id")
  # shellcheck disable=SC2086
  cs0=$(switches $pids) k0=$(sys_ticks $pids)
  if ! run_wrk "$@"; then retire "$id"; return 1; fi
  # shellcheck disable=SC2086
  cs1=$(switches $pids) k1=$(sys_ticks $pids)
  a1=$(allocated "$id")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$2" "$3" "$((cs1 - cs0))" "$([[ -n $a0 && -n $a1 ]] && echo $((a1 - a0)))" \
    "$((k1 - k0))" >>"$BENCH_TMP/extra.tsv"
}

# strace_pass ID: syscalls per request over one wrk run of FLOOR_STRACE_SECONDS under strace -c -f
strace_pass() {
  local id=$1 pids args=() p st out="$BENCH_TMP/strace-$1.txt" wrk_out="$BENCH_TMP/strace-wrk-$1.txt" requests
  pids=$(tree_pids "${S_PID[$id]}")
  for p in $pids; do args+=(-p "$p"); done
  strace -c -f -o "$out" "${args[@]}" >/dev/null 2>&1 &
  st=$!
  track_pid "$st"
  sleep 1
  taskset -c "$BENCH_LOAD_CPU" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${FLOOR_STRACE_SECONDS}s" \
    -s "$BENCH_LUA_DIR/${S_SCRIPT[$id]}" "${S_URL[$id]}" >"$wrk_out" 2>&1 &
  track_pid $!
  wait $!
  kill -INT "$st" 2>/dev/null
  wait "$st" 2>/dev/null
  requests=$(sed -n 's/^BENCH_RESULT requests=\([0-9]*\).*/\1/p' "$wrk_out")
  [[ -n $requests && -s $out ]] || { log "$id: strace pass failed"; return 0; }
  awk -v id="$id" -v n="$requests" '$NF != "total" && $4 ~ /^[0-9]+$/ { printf "%s\t%s\t%s\t%s\n", id, n, $NF, $4 }' "$out" >>"$BENCH_TMP/syscalls.tsv"
  log "$id: strace pass, $requests requests"
}

# perf_pass ID: perf record -g over FLOOR_PERF_SECONDS of load; perf script text and the request count for perf_pair.py
perf_pass() {
  local id=$1 p pids=() wrk_out="$BENCH_TMP/perf-wrk-$1.txt" data="$BENCH_TMP/perf-$1.data" requests
  for p in $(tree_pids "${S_PID[$id]}"); do pids+=("$p"); done
  taskset -c "$BENCH_LOAD_CPU" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$((FLOOR_PERF_SECONDS + 3))s" \
    -s "$BENCH_LUA_DIR/${S_SCRIPT[$id]}" "${S_URL[$id]}" >"$wrk_out" 2>&1 &
  track_pid $!
  local wrk_pid=$!
  sleep 1
  perf record -e cpu-clock -F 999 -g -p "$(IFS=,; echo "${pids[*]}")" -o "$data" -- sleep "$FLOOR_PERF_SECONDS" >/dev/null 2>&1
  wait "$wrk_pid"
  requests=$(sed -n 's/^BENCH_RESULT requests=\([0-9]*\).*/\1/p' "$wrk_out")
  [[ -n $requests && -s $data ]] || { log "$id: perf pass failed"; return 0; }
  # the load ran FLOOR_PERF_SECONDS + 3 s; the recorded window's share of it
  echo "$((requests * FLOOR_PERF_SECONDS / (FLOOR_PERF_SECONDS + 3)))" >"$BENCH_TMP/perf-$id.requests"
  perf script -i "$data" -F comm,tid,ip,sym,dso 2>/dev/null | gzip >"$BENCH_TMP/perf-$id.script.gz"
  log "$id: perf pass, ~$(cat "$BENCH_TMP/perf-$id.requests") requests recorded"
}

needs_tool=0
for v in "${VARIANTS[@]}"; do [[ $v == kestrel-direct || $v == yarp || $v == lean || $v == G1 ]] && needs_tool=1; done
((needs_tool)) && build_tool
[[ " ${VARIANTS[*]} " == *" G1 "* ]] && publish_gatehouse
for v in "${VARIANTS[@]}"; do setup_variant "$v"; done
# FLOOR_LUA: one wrk script of bench/lua for every variant (e.g. post-1k.lua: a 1 KiB POST, as G1-post and WB send)
if [[ -n $FLOOR_LUA ]]; then
  [[ -f $BENCH_LUA_DIR/$FLOOR_LUA ]] || die "FLOOR_LUA=$FLOOR_LUA is not in bench/lua"
  for v in "${VARIANTS[@]}"; do S_SCRIPT[$v]=$FLOOR_LUA; done
fi

init_raw
: >"$BENCH_TMP/extra.tsv"
: >"$BENCH_TMP/syscalls.tsv"
for v in "${VARIANTS[@]}"; do
  [[ ${S_STATUS[$v]:-} == ok ]] || continue
  log "$v: warm-up ${BENCH_WARMUP}s"
  floor_run "$v" warmup 0 "$BENCH_WARMUP"
  settle
done
for ((round = 1; round <= FLOOR_ROUNDS; round++)); do
  for v in "${VARIANTS[@]}"; do
    [[ ${S_STATUS[$v]:-} == ok ]] || continue
    floor_run "$v" run "$round" "$BENCH_DURATION"
    settle
  done
done
# the passes that slow the server down, after the measured rounds
for pass in strace perf; do
  [[ $pass == strace ]] && ((FLOOR_STRACE_SECONDS == 0)) && continue
  [[ $pass == perf ]] && ((FLOOR_PERF_SECONDS == 0)) && continue
  for v in "${VARIANTS[@]}"; do
    [[ ${S_STATUS[$v]:-} == ok ]] || continue
    "${pass}_pass" "$v"
    settle
  done
done
write_status "${VARIANTS[@]}"

out=$BENCH_RESULTS_DIR/local/$(date -u +%F-%H%M%S)-proxy-floor.md
mkdir -p "$(dirname "$out")"
python3 "$BENCH_TOOLS/proxy_floor_report.py" "$BENCH_TMP" "$(cut -d' ' -f1-3 /proc/loadavg)" "${VARIANTS[@]}" >"$out" || die "report failed"
if ((FLOOR_PERF_SECONDS > 0)); then
  ran=()
  for v in "${VARIANTS[@]}"; do [[ -s $BENCH_TMP/perf-$v.script.gz ]] && ran+=("$v"); done
  ((${#ran[@]})) && python3 "$BENCH_TOOLS/perf_pair.py" "$BENCH_TMP" "${ran[@]}" >>"$out"
fi
cat "$out"
log "written to $out"
