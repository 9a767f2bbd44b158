#!/usr/bin/env bash
# Idle cost of active health checking (issue #12): two gateways with one upstream of 100 targets
# (127.0.0.1 .. 127.0.0.100 on one port, all served by the bench's upstream nginx), one with active
# checks of `/` every second (healthy and unhealthy interval), one with checks off. No traffic. Both run
# side by side over the same window, so whatever else the machine does lands on both.
#
#   bench/health-idle.sh          publishes Gatehouse (or BENCH_GATEHOUSE_BIN), ~2 min
#
# Env: HEALTH_IDLE_SECONDS (60) measured window, HEALTH_IDLE_SETTLE (15) seconds between ready and the
# window (start-up work: JIT, first probes). Gateways on BENCH_SUT_CPU, nginx on BENCH_LOAD_CPU, as run.sh.
# CPU = utime+stime from /proc/<pid>/stat before and after the window (bench/lib/common.sh cpu_ticks).
# Goal: the checks cost < 1 % of a core, i.e. (ticks on - ticks off) / (window × CLK_TCK) < 0.01.
# Prints a markdown table; every process started here is stopped on exit.
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"

seconds=${HEALTH_IDLE_SECONDS:-60}
settle_s=${HEALTH_IDLE_SETTLE:-15}
ids=(H100 H100-off)

ensure_tools
init_tmp
targets=$(python3 "$BENCH_TOOLS/scenarios.py" idle-targets)
upstream_port=$(alloc_ports 1)
start_upstream "$upstream_port" "$targets" || die "$SERVER_ERROR"
upstream_pid=$SERVER_PID
log "upstream nginx on 127.0.0.1-$targets:$upstream_port, pid $upstream_pid"
publish_gatehouse
[[ -n $GATEHOUSE_BIN ]] || die "$GATEHOUSE_UNAVAILABLE"

declare -A pid=()
for id in "${ids[@]}"; do
  read -r proxy admin <<<"$(alloc_ports 2)"
  dir="$BENCH_TMP/$id"
  mkdir -p "$dir"
  python3 "$BENCH_TOOLS/prepare.py" "$id" --dir "$dir" --upstream-port "$upstream_port" --proxy-port "$proxy" \
    --admin-port "$admin" --filters-src "$BENCH_FILTERS_DIR" >/dev/null || die "$id: config generation failed"
  start_gatehouse "$dir" "$proxy" "$admin" || die "$id: $SERVER_ERROR"
  pid[$id]=$SERVER_PID
  # All targets HEALTHY (checks on: the probes succeed) or HEALTHCHECKS_OFF (checks off), and the proxy answers.
  python3 "$BENCH_TOOLS/preflight.py" "$id" --proxy "127.0.0.1:$proxy" --admin "127.0.0.1:$admin" \
    || die "$id: pre-flight check failed"
  log "$id: ready (pid ${pid[$id]})"
done

log "settling ${settle_s}s, then measuring ${seconds}s idle"
sleep "$settle_s"
declare -A before=()
for id in "${ids[@]}"; do before[$id]=$(cpu_ticks "${pid[$id]}"); done
up_before=$(cpu_ticks $(tree_pids "$upstream_pid"))
t0=$(date +%s.%N)
sleep "$seconds"
t1=$(date +%s.%N)
declare -A used=()
for id in "${ids[@]}"; do
  alive "${pid[$id]}" || die "$id died during the window"
  used[$id]=$(($(cpu_ticks "${pid[$id]}") - before[$id]))
done
up_used=$(($(cpu_ticks $(tree_pids "$upstream_pid")) - up_before))

python3 - "$t0" "$t1" "$CLK_TCK" "$targets" "${used[H100]}" "${used[H100-off]}" "$up_used" <<'EOF'
import sys
t0, t1, tck = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
targets, on, off, up = (int(v) for v in sys.argv[4:8])
wall = t1 - t0
pct = lambda ticks: 100.0 * ticks / tck / wall
cost = pct(on - off)
print(f"| gateway ({targets} targets, idle {wall:.1f} s) | CPU ticks | % of a core |")
print("|---|---:|---:|")
print(f"| active checks every 1 s | {on} | {pct(on):.2f} % |")
print(f"| checks off | {off} | {pct(off):.2f} % |")
print(f"| **cost of the checks** (on − off) | {on - off} | **{cost:.2f} %** |")
print(f"| upstream nginx answering the probes (core 1, not counted above) | {up} | {pct(up):.2f} % |")
print()
print(f"Goal < 1 % of a core: {'PASS' if cost < 1.0 else 'FAIL'} "
      f"({targets} probes/s; {1e6 * (on - off) / tck / wall / targets:.0f} µs CPU per probe).")
EOF
