# shellcheck shell=bash
# Knobs, logging, tools, ports, the temp dir, and process bookkeeping/cleanup for bench/run.sh.
# Every process the harness starts is registered with track_pid and killed (with its children)
# on exit, whatever the exit path (normal, error, Ctrl-C, SIGTERM).

# ---- knobs (README "Knobs" lists them; keep the two in sync) --------------------------------
BENCH_DURATION=${BENCH_DURATION:-15}          # seconds per measured run
BENCH_WARMUP=${BENCH_WARMUP:-10}              # seconds of warm-up per scenario
BENCH_REPS=${BENCH_REPS:-3}                   # measured runs per scenario (interleaved)
BENCH_SETTLE=${BENCH_SETTLE:-5}               # seconds of pause after every run (see settle())
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_SUT_CPU=${BENCH_SUT_CPU:-0}             # system under test
BENCH_LOAD_CPU=${BENCH_LOAD_CPU:-1}           # upstream nginx + wrk
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-120}
BENCH_GATEHOUSE_BIN=${BENCH_GATEHOUSE_BIN:-}  # skip the publish and use this binary
BENCH_FILTERS_DIR=${BENCH_FILTERS_DIR:-$BENCH_ROOT/filters/test}
BENCH_RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_ROOT/bench/results}
BENCH_KEEP_TMP=${BENCH_KEEP_TMP:-0}
BENCH_SOAK_MINUTES=${BENCH_SOAK_MINUTES:-10}
BENCH_SOAK_SEGMENT=${BENCH_SOAK_SEGMENT:-60}  # seconds per wrk run; the delay is corrected between runs
BENCH_SOAK_SAMPLE=${BENCH_SOAK_SAMPLE:-10}    # seconds between RSS samples
BENCH_SOAK_SKIP=${BENCH_SOAK_SKIP:-60}        # seconds excluded from the slope (the first minute)
BENCH_SOAK_RPS=${BENCH_SOAK_RPS:-}            # target rate; default half of G1 measured first
BENCH_SOAK_SCENARIO=${BENCH_SOAK_SCENARIO:-W10}

BENCH_LUA_DIR="$BENCH_ROOT/bench/lua"
BENCH_TOOLS="$BENCH_ROOT/bench/tools"
export BENCH_LUA_DIR
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True when the method's parameters are in force (only then do results go to bench/results/).
standard_params() {
  [[ $BENCH_DURATION == 15 && $BENCH_WARMUP == 10 && $BENCH_REPS == 3 && $BENCH_CONNECTIONS == 64 \
     && $BENCH_THREADS == 1 && $BENCH_SUT_CPU == 0 && $BENCH_LOAD_CPU == 1 ]]
}

ensure_tools() {
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx-light)
  command -v wrk >/dev/null || missing+=(wrk)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (apt)"
    local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "could not install ${missing[*]}"
  fi
  local t
  for t in python3 curl taskset nginx wrk; do command -v "$t" >/dev/null || die "$t is required"; done
  (($(nproc --all) >= 2)) || log "warning: fewer than 2 cores; pinning will overlap"
}

# alloc_ports N: N distinct free loopback ports (bound to port 0 together, then released).
alloc_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# ---- processes ------------------------------------------------------------------------------
BENCH_PIDS=()
# track_pid PID: stopped (with its children) on exit. Also listed in $BENCH_TMP/pids, for the one
# case no trap can handle (run.sh itself SIGKILLed): then `kill $(cat /tmp/gatehouse-bench.*/pids)`.
track_pid() {
  BENCH_PIDS+=("$1")
  echo "$1" >>"$BENCH_TMP/pids"
}

# tree_pids PID: PID and all its descendants (nginx master + workers; gatehouse is one process).
tree_pids() {
  local pid=$1 child
  [[ -d /proc/$pid ]] || return 0
  echo "$pid"
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do tree_pids "$child"; done
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# stop_tree PID: SIGTERM the process and its descendants, wait up to 10 s, then SIGKILL.
stop_tree() {
  local pid=$1 pids i
  pids=$(tree_pids "$pid")
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    local any=0 p
    for p in $pids; do alive "$p" && any=1; done
    ((any)) || break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do stop_tree "${BENCH_PIDS[i]}"; done
  BENCH_PIDS=()
  if [[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]]; then
    if [[ $BENCH_KEEP_TMP == 1 ]]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
  fi
  exit "$rc"
}

init_tmp() {
  BENCH_TMP=$(mktemp -d /tmp/gatehouse-bench.XXXXXX)
  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  log "work dir $BENCH_TMP"
}

# ---- /proc accounting -----------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID...: utime+stime summed over the processes (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() { stat_ticks 1 "$@"; }

# sys_ticks PID...: stime (kernel CPU) summed over the processes (field 15 of /proc/PID/stat).
sys_ticks() { stat_ticks 0 "$@"; }

# stat_ticks WITH_USER PID...: stime, plus utime when WITH_USER is 1, summed over the processes (fields counted
# after the ')' that ends the command name, which may contain spaces).
stat_ticks() {
  local with_user=$1 total=0 pid rest f
  shift
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    rest=$(<"/proc/$pid/stat") || continue
    rest=${rest##*) }
    # after "comm) ": state(3) ppid(4) ... utime(14) stime(15) => indexes 11 and 12 here
    read -r -a f <<<"$rest"
    total=$((total + f[12] + with_user * f[11]))
  done
  echo "$total"
}

# status_kb FIELD PID...: a /proc/PID/status field (VmHWM, VmRSS) summed over the processes, in kB.
status_kb() {
  local field=$1 total=0 pid v
  shift
  for pid in "$@"; do
    v=$(awk -v k="$field:" '$1 == k { print $2 }' "/proc/$pid/status" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
