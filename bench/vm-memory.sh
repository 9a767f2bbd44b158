#!/usr/bin/env bash
# Wasm memory under concurrency (issue #16, goal 2): peak RSS (VmHWM) of a fresh gateway driven by wrk at each
# connection count, with no filters and with a chain of three SDK/ABI filters (rust_headers, Kong's
# response_transformer fixture — both Rust — and the AssemblyScript SDK's as_headers, without configuration: with one
# it aborts in its second on_response_headers on a VM, docs/proxy-wasm-real-filters.md), for one or more builds.
#
#   bench/vm-memory.sh [LABEL=GATEHOUSE_BIN[@VAR=value,VAR=value] ...]   default: "this=<dotnet publish of this checkout>"
#
# Env: VMMEM_CONNECTIONS ("64 4000"), VMMEM_SECONDS (10), VMMEM_REPS (1), VMMEM_CHAINS ("none filters"), bench/lib knobs (BENCH_SUT_CPU, …).
# Every (build, chain, connections) run starts its own gateway (so each peak is that load's), pinned like
# bench/run.sh (gateway core 0; nginx upstream and wrk core 1), samples VmRSS every 0.5 s while wrk runs (the RSS
# under load: start-up peaks such as module compilation are excluded), records VmHWM and req/s, and stops it.
# The filter-attributable memory is the chain's RSS under load minus the no-filter one at the same connection count.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"

conns_list=${VMMEM_CONNECTIONS:-64 4000}
secs=${VMMEM_SECONDS:-10}
reps=${VMMEM_REPS:-1}
init_tmp
ensure_tools

gatehouse_builds "$@"

read -r up_port <<<"$(alloc_ports 1)"
start_upstream "$up_port" || die "$SERVER_ERROR"
UPSTREAM_PID=$SERVER_PID

filters="$BENCH_TMP/filters"
sdk_filters "$filters" rust_headers response_transformer as_headers

# kong_yml CHAIN: the declarative config of one service and route, with the three filters when CHAIN=filters
kong_yml() {
  cat <<YML
_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:$up_port
    routes:
      - name: r
        paths: ["/"]
YML
  [[ $1 == filters ]] || return 0
  cat <<'YML'
        filter_chains:
          - name: three
            filters:
              - name: rust_headers
                config: '{"request":{"add":{"x-a":"1"}},"response":{"add":{"x-b":"1"}}}'
              - name: response_transformer
                config: '{"append":{"headers":["x-c:1"]}}'
              - name: as_headers
YML
}

results="$BENCH_TMP/results.tsv"
printf 'build\tchain\tconnections\trep\tpeak_rss_mb\tload_rss_mb\tstart_rss_mb\trps\tvms\tlinear_mb\n' >"$results"
for build in "${BUILDS[@]}"; do
  label=${build%%=*}
  for chain in ${VMMEM_CHAINS:-none filters}; do
    for conns in $conns_list; do
      for rep in $(seq 1 "$reps"); do
        dir="$BENCH_TMP/$label-$chain-$conns-$rep"
        mkdir -p "$dir"
        read -r proxy admin <<<"$(alloc_ports 2)"
        kong_yml "$chain" >"$dir/kong.yml"
        wasm_declarative_conf "$dir" "$proxy" "$admin" "$filters"
        start_build "$build" "$dir" "$proxy" "$admin" || die "$label: $SERVER_ERROR"
        gh=$SERVER_PID
        check=$(curl -s -D - -o /dev/null "http://127.0.0.1:$proxy/x")
        grep -q '^HTTP/1.1 200' <<<"$check" || die "$label $chain: pre-flight: $(head -1 <<<"$check")"
        if [[ $chain == filters ]]; then
          grep -qi '^x-c: 1' <<<"$check" && grep -qi '^x-as-config: none' <<<"$check" && grep -qi '^x-b: 1' <<<"$check" \
            || die "$label: the filter chain did not run: $check"
        fi
        start_rss=$(status_kb VmRSS "$gh")
        taskset -c "$BENCH_LOAD_CPU" wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s "http://127.0.0.1:$proxy/x" >"$dir/wrk.out" 2>&1 &
        wrk_pid=$!
        load_rss=0 vms=0 linear=0
        while alive "$wrk_pid"; do # RSS sampled under load: start-up peaks (module compilation) are not the load's
          rss=$(status_kb VmRSS "$gh"); ((rss > load_rss)) && load_rss=$rss
          # the gateway's own figures: Wasm VMs and their linear memory, summed over the filters (docs/metrics.md)
          read -r v l < <(curl -s --max-time 2 "http://127.0.0.1:$admin/metrics" \
            | awk '/^gatehouse_wasm_vms\{/ { v += $2 } /^gatehouse_memory_wasm_linear_bytes\{/ { l += $2 } END { print v + 0, int(l / 1048576) }')
          ((${v:-0} > vms)) && vms=$v
          ((${l:-0} > linear)) && linear=$l
          sleep 0.5
        done
        wait "$wrk_pid" || true
        out=$(<"$dir/wrk.out")
        sleep 2
        hwm=$(status_kb VmHWM "$gh")
        rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
        errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$chain" "$conns" "$rep" "$((hwm / 1024))" "$((load_rss / 1024))" "$((start_rss / 1024))" "${rps:-0}" "$vms" "$linear" >>"$results"
        log "$label $chain c=$conns rep=$rep: RSS at start $((start_rss / 1024)) MB, max under load $((load_rss / 1024)) MB, peak (VmHWM) $((hwm / 1024)) MB, ${rps:-?} req/s, at most $vms Wasm VMs with $linear MB of linear memory ${errors}"
        stop_tree "$gh" || true   # (its kill -KILL of an already-ended process returns 1)
      done
    done
  done
done

python3 - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for r in rows:
    med.setdefault((r["build"], r["chain"], int(r["connections"])), []).append(r)
def m(b, ch, c, k): return statistics.median(float(r[k]) for r in med[(b, ch, c)])
builds = list(dict.fromkeys(r["build"] for r in rows))
conns = sorted({int(r["connections"]) for r in rows})
print("RSS under load = the largest VmRSS sampled every 0.5 s during the wrk run; peak = VmHWM (includes start-up).")
if all((b, ch, c) in med for b in builds for ch in ("none", "filters") for c in conns) is False:
    for (b, ch, c), rs in sorted(med.items()):
        print(f"{b} {ch} c={c}: RSS under load {m(b, ch, c, 'load_rss_mb'):.0f} MB, Wasm VMs {m(b, ch, c, 'vms'):.0f}, linear {m(b, ch, c, 'linear_mb'):.0f} MB, {m(b, ch, c, 'rps'):.0f} req/s")
    sys.exit(0)
print("| build | connections | RSS under load, no filters (MB) | RSS under load, 3 filters (MB) | filter-attributable (MB) | peak, no filters / 3 filters (MB) | req/s no filters / 3 filters |")
print("|---|---:|---:|---:|---:|---:|---:|")
for b in builds:
    for c in conns:
        none, filt = m(b, "none", c, "load_rss_mb"), m(b, "filters", c, "load_rss_mb")
        print(f"| {b} | {c} | {none:.0f} | {filt:.0f} | {filt - none:.0f} | {m(b, 'none', c, 'peak_rss_mb'):.0f} / {m(b, 'filters', c, 'peak_rss_mb'):.0f} | "
              f"{m(b, 'none', c, 'rps'):.0f} / {m(b, 'filters', c, 'rps'):.0f} |")
    lo, hi = conns[0], conns[-1]
    if lo != hi:
        r = lambda ch, c: m(b, ch, c, "load_rss_mb")
        print(f"| {b} | ratio {hi}/{lo} | {r('none', hi) / r('none', lo):.2f}× | {r('filters', hi) / r('filters', lo):.2f}× | "
              f"{(r('filters', hi) - r('none', hi)) / max(1, r('filters', lo) - r('none', lo)):.2f}× | | |")
PY
set +e # the EXIT trap stops the upstream; a kill of an already-ended process must not turn into a failure
