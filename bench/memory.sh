#!/usr/bin/env bash
# Peak RSS of a gateway under bench/run.sh's load, with where it goes (issue #16, goal 4).
#
#   bench/memory.sh [LABEL=GATEHOUSE_BIN[@VAR=value,VAR=value] ...]   default: "this=<dotnet publish of this checkout>"
#
# For every rep, scenario (MEM_SCENARIOS, default "G1 W10") and build, in that order (builds back to back, so a
# busy machine hits A and B alike): a fresh gateway with the scenario's own config (bench/tools/prepare.py, as
# run.sh), pinned like run.sh (gateway core 0; upstream nginx and wrk core 1), a warm-up wrk run of MEM_WARMUP
# seconds, a measured one of MEM_SECONDS (wrk -t1 -c64), then: peak RSS (VmHWM), req/s of the measured run, and
# the RSS at that moment split by mapping from /proc/PID/smaps: anonymous memory (GC heap, native heaps, Wasmtime
# code/memories, thread stacks), the runtime's and Wasmtime's .so files, managed assemblies (.dll), other files.
# "@VAR=value" sets environment variables for that build's gateway only (e.g. DOTNET_GCgen0size=0x400000), so a
# runtime knob can be A/B-tested without a rebuild.
#
# Env: MEM_SCENARIOS ("G1 W10"), MEM_REPS (1), MEM_WARMUP (5), MEM_SECONDS (10), MEM_KEEP_SMAPS (dir to copy
# smaps into), bench/lib knobs (BENCH_SUT_CPU, BENCH_CONNECTIONS, BENCH_FILTERS_DIR, …).
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"

scenarios=${MEM_SCENARIOS:-G1 W10}
reps=${MEM_REPS:-1}
warmup=${MEM_WARMUP:-5}
secs=${MEM_SECONDS:-10}
init_tmp
ensure_tools

gatehouse_builds "$@"

read -r up_port <<<"$(alloc_ports 1)"
start_upstream "$up_port" || die "$SERVER_ERROR"

# smaps_split PID: "anon so dll other" in kB of Rss, from /proc/PID/smaps
smaps_split() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { path = (NF >= 6) ? $6 : ""; next }
    /^Rss:/ {
      if (path == "" || path ~ /^\[(heap|stack|anon)/) c = "anon"
      else if (path ~ /\.so(\.[0-9]+)*$/) c = "so"
      else if (path ~ /\.dll$/) c = "dll"
      else c = "other"
      kb[c] += $2
    }
    END { printf "%d %d %d %d\n", kb["anon"], kb["so"], kb["dll"], kb["other"] }' "/proc/$1/smaps"
}

results="$BENCH_TMP/results.tsv"
printf 'build\tscenario\trep\tpeak_mb\trss_mb\tanon_mb\tso_mb\tdll_mb\tother_mb\trps\tcpu_us_per_req\n' >"$results"
for rep in $(seq 1 "$reps"); do
  for id in $scenarios; do
    script=$(python3 "$BENCH_TOOLS/scenarios.py" script "$id")
    for build in "${BUILDS[@]}"; do
      label=${build%%=*}
      dir="$BENCH_TMP/$label-$id-$rep"
      mkdir -p "$dir"
      read -r proxy admin <<<"$(alloc_ports 2)"
      wrk_env=$(python3 "$BENCH_TOOLS/prepare.py" "$id" --dir "$dir" --upstream-port "$up_port" --proxy-port "$proxy" \
                --admin-port "$admin" --filters-src "$BENCH_FILTERS_DIR") || die "$id: config generation failed"
      start_build "$build" "$dir" "$proxy" "$admin" || die "$label $id: $SERVER_ERROR"
      gh=$SERVER_PID
      curl -fsS -o /dev/null "http://127.0.0.1:$proxy/" || die "$label $id: pre-flight GET / failed"
      # shellcheck disable=SC2086
      env $wrk_env taskset -c "$BENCH_LOAD_CPU" wrk -t1 -c"$BENCH_CONNECTIONS" -d"${warmup}s" \
        -s "$BENCH_LUA_DIR/$script" "http://127.0.0.1:$proxy/" >"$dir/warmup.out" 2>&1
      if [[ ${MEM_COUNTERS:-0} == 1 ]]; then # the runtime's own figures (GC heap, committed, JIT) over the measured run
        "${DOTNET_COUNTERS:-$HOME/.dotnet/tools/dotnet-counters}" collect -p "$gh" --counters System.Runtime --format csv \
          --refresh-interval 1 --duration "00:00:$(printf '%02d' $((secs - 1)))" -o "$dir/counters.csv" >/dev/null 2>&1 &
        counters_pid=$!
        track_pid "$counters_pid"
      fi
      before=$(cpu_ticks "$gh")
      # shellcheck disable=SC2086
      env $wrk_env taskset -c "$BENCH_LOAD_CPU" wrk -t1 -c"$BENCH_CONNECTIONS" -d"${secs}s" \
        -s "$BENCH_LUA_DIR/$script" "http://127.0.0.1:$proxy/" >"$dir/wrk.out" 2>&1
      after=$(cpu_ticks "$gh")
      line=$(sed -n 's/^BENCH_RESULT //p' "$dir/wrk.out")
      if [[ ${MEM_COUNTERS:-0} == 1 ]]; then
        wait "$counters_pid" || true
        [[ -n ${MEM_KEEP_SMAPS:-} ]] && cp "$dir/counters.csv" "$MEM_KEEP_SMAPS/$label-$id-$rep.counters.csv"
        python3 - "$dir/counters.csv" <<'PY' >&2
import csv, sys
last = {}
for row in csv.reader(open(sys.argv[1])):
    if len(row) >= 5 and row[0] != "Timestamp": last[row[2]] = row[4]
for k in sorted(last):
    if any(w in k for w in ("heap", "committed", "jit", "assembly", "working_set", "collection", "thread")): print(f"    {k} = {last[k]}")
PY
      fi
      declare -A r=()
      for kv in $line; do r[${kv%%=*}]=${kv#*=}; done
      read -r anon so dll other <<<"$(smaps_split "$gh")"
      [[ -n ${MEM_KEEP_SMAPS:-} ]] && mkdir -p "$MEM_KEEP_SMAPS" && cp "/proc/$gh/smaps" "$MEM_KEEP_SMAPS/$label-$id-$rep.smaps"
      hwm=$(status_kb VmHWM "$gh") rss=$(status_kb VmRSS "$gh")
      rps=$(awk -v n="${r[requests]:-0}" -v d="${r[duration_us]:-1}" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
      cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="${r[requests]:-1}" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
      printf '%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\n' "$label" "$id" "$rep" \
        "$(bc -l <<<"$hwm/1024")" "$(bc -l <<<"$rss/1024")" "$(bc -l <<<"$anon/1024")" "$(bc -l <<<"$so/1024")" \
        "$(bc -l <<<"$dll/1024")" "$(bc -l <<<"$other/1024")" "$rps" "$cpu" >>"$results"
      log "$label $id rep $rep: peak $((hwm / 1024)) MB (now $((rss / 1024)): anon $((anon / 1024)), .so $((so / 1024)), .dll $((dll / 1024)), other $((other / 1024))), $rps req/s, $cpu µs CPU/req"
      stop_tree "$gh" || true
    done
  done
done

echo
echo "| build | scenario | rep | peak RSS (VmHWM) MB | RSS after the run MB | anon | .so | .dll | other | req/s | CPU µs/req |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
tail -n +2 "$results" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'
set +e # the EXIT trap stops the upstream; a kill of an already-ended process must not turn into a failure
