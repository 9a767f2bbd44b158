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
# bytes allocated/request (the proxyfloor variants: their GET /_alloc) and, in a separate strace -c -f pass of
# FLOOR_STRACE_SECONDS, syscalls/request. Everything started here is stopped on exit (also on error and Ctrl-C).
# Knobs: FLOOR_ROUNDS (5), BENCH_DURATION (15 s per run), BENCH_WARMUP (10), BENCH_SETTLE (5), FLOOR_STRACE_SECONDS
# (5; 0 skips the strace pass), FLOOR_TOOL (a built proxyfloor.dll; default: built here), BENCH_KEEP_TMP=1.
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
ALL_VARIANTS=(nginx-return kestrel-direct nginx yarp lean G1)
VARIANTS=("$@")
((${#VARIANTS[@]})) || VARIANTS=("${ALL_VARIANTS[@]}")
for v in "${VARIANTS[@]}"; do
  [[ " ${ALL_VARIANTS[*]} " == *" $v "* ]] || { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; die "unknown variant $v"; }
done
if ((FLOOR_STRACE_SECONDS > 0)) && ! command -v strace >/dev/null; then
  log "strace is not installed: no syscall counts"
  FLOOR_STRACE_SECONDS=0
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
    [[ -f $FLOOR_TOOL ]] && TOOL_DLL=$FLOOR_TOOL || TOOL_ERROR="FLOOR_TOOL=$FLOOR_TOOL does not exist"
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
    nginx|G1) setup_scenario "$id" ;;
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
# sys_ticks PID...: stime (kernel CPU) summed over the processes (field 15 of /proc/PID/stat)
sys_ticks() {
  local total=0 pid rest f
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    rest=$(<"/proc/$pid/stat") || continue
    rest=${rest##*) }
    read -r -a f <<<"$rest"
    total=$((total + f[12]))
  done
  echo "$total"
}
# allocated ID: bytes the proxyfloor variant allocated so far (empty for the others)
allocated() {
  case $1 in kestrel-direct|yarp|lean) curl -s --max-time 5 "${S_URL[$1]}_alloc" 2>/dev/null ;; esac
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
    -s "$BENCH_LUA_DIR/static.lua" "${S_URL[$id]}" >"$wrk_out" 2>&1
  kill -INT "$st" 2>/dev/null
  wait "$st" 2>/dev/null
  requests=$(sed -n 's/^BENCH_RESULT requests=\([0-9]*\).*/\1/p' "$wrk_out")
  [[ -n $requests && -s $out ]] || { log "$id: strace pass failed"; return 0; }
  awk -v id="$id" -v n="$requests" '$NF != "total" && $4 ~ /^[0-9]+$/ { printf "%s\t%s\t%s\t%s\n", id, n, $NF, $4 }' "$out" >>"$BENCH_TMP/syscalls.tsv"
  log "$id: strace pass, $requests requests"
}

needs_tool=0
for v in "${VARIANTS[@]}"; do [[ $v == kestrel-direct || $v == yarp || $v == lean ]] && needs_tool=1; done
((needs_tool)) && build_tool
[[ " ${VARIANTS[*]} " == *" G1 "* ]] && publish_gatehouse
for v in "${VARIANTS[@]}"; do setup_variant "$v"; done

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
if ((FLOOR_STRACE_SECONDS > 0)); then
  for v in "${VARIANTS[@]}"; do
    [[ ${S_STATUS[$v]:-} == ok ]] || continue
    strace_pass "$v"
    settle
  done
fi
write_status "${VARIANTS[@]}"

out=$BENCH_RESULTS_DIR/local/$(date -u +%F-%H%M%S)-proxy-floor.md
mkdir -p "$(dirname "$out")"
python3 - "$BENCH_TMP" "$(cut -d' ' -f1-3 /proc/loadavg)" "${VARIANTS[@]}" >"$out" <<'EOF'
import csv, statistics, sys
tmp, loadavg, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = [r for r in csv.DictReader(open(f"{tmp}/raw.tsv"), delimiter="\t") if r["phase"] == "run"]
extra = {(r[0], r[1], r[2]): r[3:] for r in csv.reader(open(f"{tmp}/extra.tsv"), delimiter="\t")}
status = {r["scenario"]: r for r in csv.DictReader(open(f"{tmp}/status.tsv"), delimiter="\t")}
calls = {}
for vid, n, name, c in csv.reader(open(f"{tmp}/syscalls.tsv"), delimiter="\t"):
    calls.setdefault(vid, []).append((name, int(c) / max(1, int(n))))
med = lambda xs: statistics.median(xs) if xs else None
rows = {}
for v in variants:
    runs = [r for r in raw if r["scenario"] == v]
    if not runs or status.get(v, {}).get("status") != "ok":
        continue
    rps, cpu, cs, alloc, p99, others, kernel, bad = [], [], [], [], [], [], [], 0
    for r in runs:
        n, secs = int(r["requests"]), int(r["duration_us"]) / 1e6
        errors = sum(int(r[k]) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        bad += errors > 0.001 * n
        rps.append(n / secs)
        cpu.append(1e6 * int(r["cpu_ticks"]) / int(r["clk_tck"]) / n)
        p99.append(int(r["p99_us"]) / 1000)
        others.append(100 * int(r["others_ticks"]) / int(r["clk_tck"]) / secs)
        e = extra.get((v, "run", r["rep"]))
        if e:
            cs.append(int(e[0]) / n)
            if len(e) > 1 and e[1]:
                alloc.append(int(e[1]) / n)
            if len(e) > 2 and e[2] and int(r["cpu_ticks"]):
                kernel.append(100 * int(e[2]) / int(r["cpu_ticks"]))
    sc = sorted(calls.get(v, []), key=lambda x: -x[1])
    rows[v] = dict(rps=med(rps), cpu=med(cpu), cpu_lo=min(cpu), cpu_hi=max(cpu), cs=med(cs), alloc=med(alloc),
                   p99=med(p99), others=max(others), kernel=med(kernel), bad=bad, n=len(runs),
                   sys=sum(x[1] for x in sc) if sc else None, top=", ".join(f"{k} {x:.2f}" for k, x in sc[:6]))
fmt = lambda x, f: "—" if x is None else format(x, f)
print(f"# Proxy floor (bench/proxy-floor.sh), load average at end {loadavg}\n")
print("| variant | runs | req/s (median) | CPU µs/request (median, min–max) | kernel % of that CPU | context switches/request | bytes allocated/request | syscalls/request (strace pass) | p99 ms | idle others max % core |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for v, r in rows.items():
    print(f"| {v}{' (INVALID: errors)' if r['bad'] else ''} | {r['n']} | {r['rps']:,.0f} | {r['cpu']:.1f} ({r['cpu_lo']:.1f}–{r['cpu_hi']:.1f}) | "
          f"{fmt(r['kernel'], '.0f')} | {fmt(r['cs'], '.3f')} | {fmt(r['alloc'], ',.0f')} | {fmt(r['sys'], '.2f')} | {r['p99']:.2f} | {r['others']:.1f} |")
for v in variants:
    if v not in rows:
        print(f"| {v} | not available: {status.get(v, {}).get('reason', '?')} | | | | | | | | |")
print("\nSyscalls per request, largest first (strace -c -f; strace slows the server, the counts stay valid):\n")
for v, r in rows.items():
    if r["top"]:
        print(f"- {v}: {r['top']}")
c = {v: r["cpu"] for v, r in rows.items()}
print("\nArithmetic (medians of CPU µs/request):\n")
if "kestrel-direct" in c and "nginx-return" in c:
    print(f"- Kestrel's floor over nginx's: kestrel-direct {c['kestrel-direct']:.1f} − nginx-return {c['nginx-return']:.1f} = {c['kestrel-direct'] - c['nginx-return']:.1f}")
if "nginx" in c and "nginx-return" in c:
    print(f"- nginx's proxying (upstream client) on top of its floor: {c['nginx'] - c['nginx-return']:.1f}")
if "yarp" in c and "kestrel-direct" in c:
    print(f"- YARP + SocketsHttpHandler on top of Kestrel's floor: {c['yarp'] - c['kestrel-direct']:.1f}")
if "lean" in c and "kestrel-direct" in c:
    print(f"- the lean client on top of Kestrel's floor: {c['lean'] - c['kestrel-direct']:.1f}")
if "lean" in c and "yarp" in c:
    print(f"- what the lean client saves against YARP: {c['yarp'] - c['lean']:.1f} ({100 * (c['yarp'] - c['lean']) / c['yarp']:.0f} % of yarp)")
if "G1" in c and "yarp" in c:
    print(f"- Gatehouse above a minimal YARP forwarder: G1 {c['G1']:.1f} − yarp {c['yarp']:.1f} = {c['G1'] - c['yarp']:.1f}")
if "G1" in c and "kestrel-direct" in c:
    print(f"- Kestrel's floor as a share of G1: {100 * c['kestrel-direct'] / c['G1']:.0f} %")
if "nginx" in c:
    for v in ("kestrel-direct", "yarp", "lean", "G1"):
        if v in c:
            print(f"- {v} / nginx proxy: {c[v] / c['nginx']:.2f} ×")
    if all(k in c for k in ("G1", "yarp", "lean")):
        g = c["G1"] - (c["yarp"] - c["lean"])
        print(f"- G1 with the lean client's saving (G1 − (yarp − lean)): {g:.1f} = {g / c['nginx']:.2f} × nginx (goal ≤ 1.5 ×: {1.5 * c['nginx']:.1f})")
print("\nRead CPU µs/request and the counts; req/s on a shared machine is indicative only. Flag: a row whose idle others "
      "exceed 2 % of a core, or whose min–max spread is wide, was measured on a busy machine.")
EOF
cat "$out"
log "written to $out"
