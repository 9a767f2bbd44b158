#!/usr/bin/env bash
# Real SDK filters under many concurrent requests (issue #16, session 20): a warmed gateway's CPU per request, req/s and
# live Wasm VMs at each connection count, for one filter at a time (no filter, rust_headers, as_headers), for one or
# more builds or settings.
#
#   bench/sdk-concurrency.sh [LABEL=GATEHOUSE_BIN[@VAR=value,VAR=value] ...]   default: "this=<dotnet publish of this checkout>"
#
# "@VAR=value" sets environment variables for that build's gateway only, e.g. an A/B of the contexts-per-VM bound:
#   bench/sdk-concurrency.sh bound=$BIN unbounded=$BIN@GATEHOUSE_WASM_CONTEXTS_PER_VM=0
# Env: SDKCONC_FILTERS ("none rust_headers as_headers"), SDKCONC_CONNECTIONS ("64 1000 4000"), SDKCONC_WARMUP (10 s at
# 64 connections), SDKCONC_SECONDS (15 per count), SDKCONC_REPS (1), bench/lib knobs (BENCH_SUT_CPU, …).
# One gateway per (rep, filter, build), builds back to back, pinned like bench/run.sh (gateway core 0; nginx upstream
# and wrk core 1): a warm-up, then each connection count in turn; CPU per request from /proc/PID/stat; VMs = the most
# live VMs of the filter seen under load (gatehouse_wasm_vms). Why warmed: a fresh gateway's first seconds are JIT work.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"

filters_list=${SDKCONC_FILTERS:-none rust_headers as_headers}
conns_list=${SDKCONC_CONNECTIONS:-64 1000 4000}
warmup=${SDKCONC_WARMUP:-10}
secs=${SDKCONC_SECONDS:-15}
reps=${SDKCONC_REPS:-1}
init_tmp
ensure_tools

gatehouse_builds "$@"

read -r up_port <<<"$(alloc_ports 1)"
start_upstream "$up_port" || die "$SERVER_ERROR"

filters="$BENCH_TMP/filters"
sdk_filters "$filters" rust_headers as_headers

# kong_yml FILTER: one service and route, with FILTER as its chain unless "none"
kong_yml() {
  printf '_format_version: "3.0"\nservices:\n  - name: up\n    url: http://127.0.0.1:%s\n    routes:\n      - name: r\n        paths: ["/"]\n' "$up_port"
  case $1 in
    none) ;;
    rust_headers) printf '        filter_chains:\n          - filters:\n              - name: rust_headers\n                config: %s\n' \
      "'{\"request\":{\"add\":{\"x-a\":\"1\"}},\"response\":{\"add\":{\"x-b\":\"1\"}}}'" ;;
    *) printf '        filter_chains:\n          - filters:\n              - name: %s\n' "$1" ;;
  esac
}

results="$BENCH_TMP/results.tsv"
printf 'build\tfilter\tconnections\trep\trps\tcpu_us_per_req\tvms\tpeak_rss_mb\n' >"$results"
for rep in $(seq 1 "$reps"); do
  for filter in $filters_list; do
    for build in "${BUILDS[@]}"; do
      label=${build%%=*}
      dir="$BENCH_TMP/$label-$filter-$rep"
      mkdir -p "$dir"
      read -r proxy admin <<<"$(alloc_ports 2)"
      kong_yml "$filter" >"$dir/kong.yml"
      wasm_declarative_conf "$dir" "$proxy" "$admin" "$filters"
      start_build "$build" "$dir" "$proxy" "$admin" || die "$label $filter: $SERVER_ERROR"
      gh=$SERVER_PID
      check=$(curl -s -D - -o /dev/null "http://127.0.0.1:$proxy/x")
      grep -q '^HTTP/1.1 200' <<<"$check" || die "$label $filter: pre-flight: $(head -1 <<<"$check")"
      case $filter in
        rust_headers) grep -qi '^x-b: 1' <<<"$check" || die "$label: rust_headers did not run: $check" ;;
        as_headers) grep -qi '^x-as-config: none' <<<"$check" || die "$label: as_headers did not run: $check" ;;
      esac
      taskset -c "$BENCH_LOAD_CPU" wrk -t1 -c64 -d"${warmup}s" "http://127.0.0.1:$proxy/x" >"$dir/warmup.out" 2>&1
      for conns in $conns_list; do
        before=$(cpu_ticks "$gh")
        taskset -c "$BENCH_LOAD_CPU" wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s "http://127.0.0.1:$proxy/x" >"$dir/wrk-$conns.out" 2>&1 &
        wrk_pid=$!
        vms=0
        while alive "$wrk_pid"; do
          # (a busy gateway may not answer within 2 s: that sample is skipped, not the run)
          v=$(curl -s --max-time 2 "http://127.0.0.1:$admin/metrics" | awk '/^gatehouse_wasm_vms\{/ { v += $2 } END { print v + 0 }' || true)
          ((${v:-0} > vms)) && vms=$v
          sleep 1
        done
        wait "$wrk_pid" || true
        after=$(cpu_ticks "$gh")
        out=$(<"$dir/wrk-$conns.out")
        rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
        n=$(awk '/requests in/ { print $1 }' <<<"$out")
        cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="${n:-1}" 'BEGIN { printf "%.1f", t / hz * 1e6 / (n > 0 ? n : 1) }')
        hwm=$(status_kb VmHWM "$gh")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$filter" "$conns" "$rep" "${rps:-0}" "$cpu" "$vms" "$((hwm / 1024))" >>"$results"
        log "$label $filter c=$conns rep=$rep: ${rps:-?} req/s, $cpu us CPU per request, at most $vms Wasm VMs $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)"
        sleep 2
      done
      stop_tree "$gh" || true
    done
  done
done

python3 - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
cell = {}
for r in rows:
    cell.setdefault((r["build"], r["filter"], int(r["connections"])), []).append(r)
def m(b, f, c, k): return statistics.median(float(r[k]) for r in cell[(b, f, c)])
builds = list(dict.fromkeys(r["build"] for r in rows))
filters = list(dict.fromkeys(r["filter"] for r in rows))
conns = sorted({int(r["connections"]) for r in rows})
print("CPU µs per request (gateway utime+stime / requests), medians over reps; VMs = most live Wasm VMs seen under load.")
print("| build | filter | " + " | ".join(f"{c} conns: µs, req/s, VMs" for c in conns) + f" | × CPU at {conns[-1]} vs {conns[0]} |")
print("|---|---|" + "---:|" * (len(conns) + 1))
for b in builds:
    for f in filters:
        if (b, f, conns[0]) not in cell: continue
        cols = [f"{m(b, f, c, 'cpu_us_per_req'):.1f}, {m(b, f, c, 'rps'):.0f}, {m(b, f, c, 'vms'):.0f}" for c in conns]
        print(f"| {b} | {f} | " + " | ".join(cols) + f" | {m(b, f, conns[-1], 'cpu_us_per_req') / m(b, f, conns[0], 'cpu_us_per_req'):.2f} |")
PY
set +e # the EXIT trap stops the upstream; a kill of an already-ended process must not turn into a failure
