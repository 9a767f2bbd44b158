#!/usr/bin/env bash
# Wasm memory under concurrency (issue #16, goal 2): peak RSS (VmHWM) of a fresh gateway driven by wrk at each
# connection count, with no filters and with a chain of three SDK/ABI filters (rust_headers, Kong's
# response_transformer fixture — both Rust — and the AssemblyScript SDK's as_headers), for one or more builds.
#
#   bench/vm-memory.sh [LABEL=GATEHOUSE_BIN ...]     default: "this=<dotnet publish of this checkout>"
#
# Env: VMMEM_CONNECTIONS ("64 4000"), VMMEM_SECONDS (10), VMMEM_REPS (1), and bench/lib knobs (BENCH_SUT_CPU, …).
# Every (build, chain, connections) run starts its own gateway (so each peak is that load's), pinned like
# bench/run.sh (gateway core 0; nginx upstream and wrk core 1), waits 2 s after wrk, records VmHWM and req/s, and stops it.
# The filter-attributable memory is the chain's peak minus the no-filter peak at the same connection count.
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

builds=("$@")
if ((${#builds[@]} == 0)); then
  publish_gatehouse
  [[ -n $GATEHOUSE_BIN ]] || die "$GATEHOUSE_UNAVAILABLE"
  builds=("this=$GATEHOUSE_BIN")
fi

read -r up_port <<<"$(alloc_ports 1)"
start_upstream "$up_port" || die "$SERVER_ERROR"
UPSTREAM_PID=$SERVER_PID

filters="$BENCH_TMP/filters"
mkdir -p "$filters"
cp "$BENCH_ROOT/filters/rust/headers/rust_headers.wasm" "$BENCH_ROOT/filters/rust/kong-tests/response_transformer.wasm" \
   "$BENCH_ROOT/filters/assemblyscript/as_headers.wasm" "$filters/"
echo '{"root_id":"as_headers"}' >"$filters/as_headers.meta.json"

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
                config: 'bench'
YML
}

results="$BENCH_TMP/results.tsv"
printf 'build\tchain\tconnections\trep\tpeak_rss_mb\trps\n' >"$results"
for build in "${builds[@]}"; do
  label=${build%%=*} GATEHOUSE_BIN=${build#*=}
  for chain in none filters; do
    for conns in $conns_list; do
      for rep in $(seq 1 "$reps"); do
        dir="$BENCH_TMP/$label-$chain-$conns-$rep"
        mkdir -p "$dir/prefix"
        read -r proxy admin <<<"$(alloc_ports 2)"
        kong_yml "$chain" >"$dir/kong.yml"
        {
          echo "prefix = $dir/prefix"; echo "proxy_listen = 127.0.0.1:$proxy backlog=8192"; echo "admin_listen = 127.0.0.1:$admin"
          echo "database = off"; echo "declarative_config = $dir/kong.yml"; echo "log_level = warn"
          echo "proxy_access_log = off"; echo "wasm = on"; echo "wasm_filters_path = $filters"
        } >"$dir/gatehouse.conf"
        start_gatehouse "$dir" "$proxy" "$admin" || die "$label: $SERVER_ERROR"
        gh=$SERVER_PID
        check=$(curl -s -D - -o /dev/null "http://127.0.0.1:$proxy/x")
        grep -q '^HTTP/1.1 200' <<<"$check" || die "$label $chain: pre-flight: $(head -1 <<<"$check")"
        if [[ $chain == filters ]]; then
          grep -qi '^x-c: 1' <<<"$check" && grep -qi '^x-as-config: bench' <<<"$check" && grep -qi '^x-b: 1' <<<"$check" \
            || die "$label: the filter chain did not run: $check"
        fi
        out=$(taskset -c "$BENCH_LOAD_CPU" wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s "http://127.0.0.1:$proxy/x" 2>&1)
        sleep 2
        hwm=$(status_kb VmHWM "$gh")
        rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
        errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)
        printf '%s\t%s\t%s\t%s\t%.0f\t%s\n' "$label" "$chain" "$conns" "$rep" "$(echo "$hwm / 1024" | bc -l)" "${rps:-0}" >>"$results"
        log "$label $chain c=$conns rep=$rep: peak RSS $((hwm / 1024)) MB, ${rps:-?} req/s ${errors}"
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
    med.setdefault((r["build"], r["chain"], int(r["connections"])), []).append((float(r["peak_rss_mb"]), float(r["rps"])))
builds = list(dict.fromkeys(r["build"] for r in rows))
conns = sorted({int(r["connections"]) for r in rows})
print("| build | connections | peak RSS, no filters (MB) | peak RSS, 3 filters (MB) | filter-attributable (MB) | req/s no filters | req/s 3 filters |")
print("|---|---:|---:|---:|---:|---:|---:|")
for b in builds:
    for c in conns:
        none = statistics.median(x[0] for x in med[(b, "none", c)]); filt = statistics.median(x[0] for x in med[(b, "filters", c)])
        rn = statistics.median(x[1] for x in med[(b, "none", c)]); rf = statistics.median(x[1] for x in med[(b, "filters", c)])
        print(f"| {b} | {c} | {none:.0f} | {filt:.0f} | {filt - none:.0f} | {rn:.0f} | {rf:.0f} |")
    lo, hi = conns[0], conns[-1]
    if lo != hi:
        r = lambda ch, c: statistics.median(x[0] for x in med[(b, ch, c)])
        print(f"| {b} | ratio {hi}/{lo} | {r('none', hi) / r('none', lo):.2f}× | {r('filters', hi) / r('filters', lo):.2f}× | "
              f"{(r('filters', hi) - r('none', hi)) / max(1, r('filters', lo) - r('none', lo)):.2f}× | | |")
PY
