#!/usr/bin/env bash
# Propagation latency of issue 13: two Gatehouse nodes on one PostgreSQL database (bench/lib/postgres.sh), 1,000 routes
# created alternately through each node's Admin API, the delay until the OTHER node's proxy serves each one
# (bench/tools/propagation.py). Prints a markdown table; every process started here is stopped on exit.
#
#   bench/propagation.sh                 publishes Gatehouse (or BENCH_GATEHOUSE_BIN), a minute or two
#
# Env: PROPAGATION_WRITES (1000). Both gateways on BENCH_SUT_CPU, PostgreSQL on BENCH_LOAD_CPU.
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_ROOT
# shellcheck source=lib/common.sh
source "$BENCH_ROOT/bench/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_ROOT/bench/lib/servers.sh"
# shellcheck source=lib/postgres.sh
source "$BENCH_ROOT/bench/lib/postgres.sh"

writes=${PROPAGATION_WRITES:-1000}
init_tmp
start_postgres_once || die "$SERVER_ERROR"
log "postgres on 127.0.0.1:$BENCH_PG_PORT"
publish_gatehouse
[[ -n $GATEHOUSE_BIN ]] || die "$GATEHOUSE_UNAVAILABLE"
pg_create_database propagation || die "createdb failed"

declare -A admin=() proxy=()
for node in a b; do
  read -r proxy[$node] admin[$node] <<<"$(alloc_ports 2)"
  dir="$BENCH_TMP/$node"
  mkdir -p "$dir/prefix"
  cat >"$dir/gatehouse.conf" <<CONF
prefix = $dir/prefix
proxy_listen = 127.0.0.1:${proxy[$node]}
admin_listen = 127.0.0.1:${admin[$node]}
admin_gui_listen = off
database = postgres
pg_host = 127.0.0.1
pg_port = $BENCH_PG_PORT
pg_user = $BENCH_PG_USER
pg_database = propagation
log_level = warn
proxy_access_log = off
CONF
  start_gatehouse "$dir" "${proxy[$node]}" "${admin[$node]}" || die "node $node: $SERVER_ERROR"
  log "node $node: ready (pid $SERVER_PID)"
done

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$BENCH_TOOLS/propagation.py" --writes "$writes" \
  --a-admin "127.0.0.1:${admin[a]}" --a-proxy "127.0.0.1:${proxy[a]}" \
  --b-admin "127.0.0.1:${admin[b]}" --b-proxy "127.0.0.1:${proxy[b]}" || die "propagation run failed"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
