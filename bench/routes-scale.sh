#!/usr/bin/env bash
# Route-table scale (issue #16 goal 5): G1, G2 (10,000 routes) and G2-100k (100,000 routes, same shape: distinct
# hosts and prefix paths, traffic over 100 of them) side by side in one run.
#
#   bench/routes-scale.sh          publishes Gatehouse (or BENCH_GATEHOUSE_BIN); ~6 min with the default knobs
#
# For each gateway: the time from `gatehouse start` (DB-less, `declarative_config`) to the first `GET /status` 200
# and a proxy port that accepts, the CPU it used until then, and VmHWM / VmRSS at that moment. Then a full
# `POST /config` of G2-100k's own kong.yml to its Admin API (application/x-yaml): wall time, CPU, the largest VmRSS
# sampled every 0.1 s during the upload (and the 5 s after it) and VmRSS 5 s after it. Then requests/s: BENCH_WARMUP s of warm-up each, then
# BENCH_REPS rounds of BENCH_DURATION s, interleaved G1 G2 G2-100k G1 …, same cores and wrk settings as run.sh;
# medians, and the ratios to G1 (goals: G2 ≥ 0.95 × G1, G2-100k ≥ 0.9 × G1; start-up and POST /config < 10 s and
# RSS < 400 MB for 100,000 routes). Start-up and load times are wall clock: on a busy machine read the CPU column.
# Prints a markdown report; every process started here is stopped on exit.
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"

ids=(G1 G2 G2-100k)
big=G2-100k

ensure_tools
init_tmp
upstream_port=$(alloc_ports 1)
start_upstream "$upstream_port" 1 || die "$SERVER_ERROR"
log "upstream nginx on 127.0.0.1:$upstream_port, pid $SERVER_PID"
publish_gatehouse
[[ -n $GATEHOUSE_BIN ]] || die "$GATEHOUSE_UNAVAILABLE"

now() { date +%s.%N; }
declare -A pid=() admin=() proxyaddr=() url=() script=() envs=() ready_s=() ready_cpu=() ready_hwm=() ready_rss=()
for id in "${ids[@]}"; do
  read -r proxy adm <<<"$(alloc_ports 2)"
  dir="$BENCH_TMP/$id"
  mkdir -p "$dir"
  envs[$id]=$(python3 "$BENCH_TOOLS/prepare.py" "$id" --dir "$dir" --upstream-port "$upstream_port" --proxy-port "$proxy" \
    --admin-port "$adm" --filters-src "$BENCH_FILTERS_DIR" | tr '\n' ' ') || die "$id: config generation failed"
  log "$id: starting ($(du -h "$dir/kong.yml" | cut -f1) kong.yml)"
  t0=$(now)
  start_gatehouse "$dir" "$proxy" "$adm" || die "$id: $SERVER_ERROR"
  t1=$(now)
  pid[$id]=$SERVER_PID
  ready_s[$id]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  ready_cpu[$id]=$(awk -v t="$(cpu_ticks "$SERVER_PID")" -v k="$CLK_TCK" 'BEGIN { printf "%.1f", t / k }')
  ready_hwm[$id]=$(($(status_kb VmHWM "$SERVER_PID") / 1024))
  ready_rss[$id]=$(($(status_kb VmRSS "$SERVER_PID") / 1024))
  admin[$id]="127.0.0.1:$adm"
  proxyaddr[$id]="127.0.0.1:$proxy"
  url[$id]="http://127.0.0.1:$proxy/"
  script[$id]=$(python3 "$BENCH_TOOLS/scenarios.py" script "$id")
  python3 "$BENCH_TOOLS/preflight.py" "$id" --proxy "127.0.0.1:$proxy" --admin "127.0.0.1:$adm" --targets "$dir/targets.txt" \
    || die "$id: pre-flight check failed"
  log "$id: ready in ${ready_s[$id]} s (CPU ${ready_cpu[$id]} s), VmHWM ${ready_hwm[$id]} MB, VmRSS ${ready_rss[$id]} MB"
done

# ---- POST /config of the big file --------------------------------------------------------------
bigpid=${pid[$big]}
sampler_out="$BENCH_TMP/post-rss.txt"
( while kill -0 "$bigpid" 2>/dev/null; do status_kb VmRSS "$bigpid"; sleep 0.1; done ) >"$sampler_out" &
sampler=$!
track_pid "$sampler"
cpu0=$(cpu_ticks "$bigpid")
log "$big: POST /config of its kong.yml"
read -r post_code post_s < <(curl -sS -o "$BENCH_TMP/post-body.json" -w '%{http_code} %{time_total}\n' --max-time 600 \
  -H 'Content-Type: application/x-yaml' --data-binary "@$BENCH_TMP/$big/kong.yml" "http://${admin[$big]}/config")
cpu1=$(cpu_ticks "$bigpid")
sleep 5  # the gateway compacts its heap once the answer has left; "after" is read past that
stop_tree "$sampler"
post_peak=$(($(sort -n "$sampler_out" | tail -n 1) / 1024))
post_after=$(($(status_kb VmRSS "$bigpid") / 1024))
post_cpu=$(awk -v t="$((cpu1 - cpu0))" -v k="$CLK_TCK" 'BEGIN { printf "%.1f", t / k }')
[[ $post_code == 201 ]] || die "$big: POST /config answered $post_code: $(head -c 300 "$BENCH_TMP/post-body.json")"
python3 "$BENCH_TOOLS/preflight.py" "$big" --proxy "${proxyaddr[$big]}" --admin "${admin[$big]}" \
  --targets "$BENCH_TMP/$big/targets.txt" >/dev/null || die "$big: pre-flight check failed after POST /config"
log "$big: POST /config 201 in $post_s s (CPU $post_cpu s), peak VmRSS $post_peak MB, after $post_after MB"

# ---- requests/s, interleaved ---------------------------------------------------------------------
raw="$BENCH_TMP/raw.tsv"
: >"$raw"
wrk_run() {  # wrk_run ID SECONDS PHASE
  local id=$1 secs=$2 phase=$3 out="$BENCH_TMP/wrk-$1-$3.txt" before after line
  before=$(cpu_ticks "${pid[$id]}")
  # shellcheck disable=SC2086
  env ${envs[$id]} taskset -c "$BENCH_LOAD_CPU" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${secs}s" --latency \
    -s "$BENCH_LUA_DIR/${script[$id]}" "${url[$id]}" >"$out" 2>&1
  after=$(cpu_ticks "${pid[$id]}")
  alive "${pid[$id]}" || die "$id died during $phase"
  line=$(sed -n 's/^BENCH_RESULT //p' "$out")
  [[ -n $line ]] || die "$id: wrk failed: $(tail -n 2 "$out" | tr '\n' ' ')"
  [[ $phase == warmup ]] || printf '%s\t%s\t%s\t%s\n' "$id" "$phase" "$line" "$((after - before))" >>"$raw"
  log "$id $phase: $line cpu_ticks=$((after - before))"
  sleep "$BENCH_SETTLE"
}
for id in "${ids[@]}"; do wrk_run "$id" "$BENCH_WARMUP" warmup; done
for ((rep = 1; rep <= BENCH_REPS; rep++)); do
  for id in "${ids[@]}"; do wrk_run "$id" "$BENCH_DURATION" "run$rep"; done
done

python3 - "$raw" "$CLK_TCK" "$(cat /proc/loadavg)" "$(git -C "$BENCH_ROOT" rev-parse --short HEAD)" <<EOF
import statistics, sys
raw, tck, load, commit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ids = "${ids[*]}".split()
ready = dict(zip(ids, "${ready_s[G1]} ${ready_s[G2]} ${ready_s[G2-100k]}".split()))
cpu = dict(zip(ids, "${ready_cpu[G1]} ${ready_cpu[G2]} ${ready_cpu[G2-100k]}".split()))
hwm = dict(zip(ids, "${ready_hwm[G1]} ${ready_hwm[G2]} ${ready_hwm[G2-100k]}".split()))
rss = dict(zip(ids, "${ready_rss[G1]} ${ready_rss[G2]} ${ready_rss[G2-100k]}".split()))
runs = {i: [] for i in ids}
for line in open(raw):
    sid, phase, result, ticks = line.rstrip("\n").split("\t")
    r = dict(kv.split("=") for kv in result.split())
    n, d = float(r["requests"]), float(r["duration_us"]) / 1e6
    bad = sum(float(r[k]) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    runs[sid].append((n / d, 1e6 * int(ticks) / tck / n, bad))
print(f"# Route-table scale — commit {commit}, load average at end {load}\n")
print("| gateway | routes | ready after (wall s) | CPU until ready (s) | VmHWM at ready (MB) | VmRSS at ready (MB) | req/s (median) | × G1 | CPU µs/request | × G1 | runs (req/s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
routes = {"G1": "1", "G2": "10,000", "G2-100k": "100,000"}
g1 = statistics.median(x[0] for x in runs["G1"])
g1cpu = statistics.median(x[1] for x in runs["G1"])
for i in ids:
    rps = statistics.median(x[0] for x in runs[i]); c = statistics.median(x[1] for x in runs[i])
    errs = " (errors!)" if any(x[2] for x in runs[i]) else ""
    print(f"| {i} | {routes[i]} | {ready[i]} | {cpu[i]} | {hwm[i]} | {rss[i]} | {rps:,.0f}{errs} | {rps / g1:.2f} | {c:.1f} | {c / g1cpu:.2f} | "
          + ", ".join(f"{x[0]:,.0f}" for x in runs[i]) + " |")
print()
print(f"POST /config of the 100,000-route file (${post_code}): ${post_s} s wall, ${post_cpu} s CPU, "
      f"peak VmRSS during it ${post_peak} MB, VmRSS after ${post_after} MB.")
EOF
