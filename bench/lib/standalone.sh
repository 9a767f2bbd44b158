# shellcheck shell=bash
# The shared start of the one-gateway measurements (body-cost.sh, body-stream.sh, isolation.sh): a temp dir, free
# ports, an nginx upstream and a DB-less gateway on a kong.yml the script writes, every process stopped on exit.
# Sets: tmp, pids, up (upstream port), proxy, admin, gh (the gateway's pid), tck; cpu_ticks prints the gateway's
# utime+stime. Source it after `set -euo pipefail` and `root=…`.

# standalone_begin NAME: the temp dir /tmp/gatehouse-NAME.* (kept when STANDALONE_KEEP is set) with logs/, filters/
# and prefix/, three free ports, and the exit trap
standalone_begin() {
  tmp=$(mktemp -d "/tmp/gatehouse-$1.XXXXXX")
  pids=()
  trap standalone_cleanup EXIT INT TERM
  up=$(free_port) proxy=$(free_port) admin=$(free_port)
  mkdir -p "$tmp/logs" "$tmp/filters" "$tmp/prefix"
  tck=$(getconf CLK_TCK)
}
standalone_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n ${STANDALONE_KEEP:-} ]] || rm -rf "$tmp"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# standalone_nginx CPU HTTP_BLOCK: nginx with one worker on core CPU ("" = any), the given http { } contents
standalone_nginx() {
  local cpu=$1 http=$2 pin=()
  [[ -z $cpu ]] || pin=(taskset -c "$cpu")
  cat >"$tmp/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $tmp/nginx.pid; error_log $tmp/logs/error.log;
events { worker_connections 1024; }
http { $http }
NGINX
  "${pin[@]}" nginx -p "$tmp" -c "$tmp/nginx.conf" >"$tmp/logs/nginx.out" 2>&1 &
  pids+=($!)
}

# standalone_gateway CPU DLL [CONF_LINE...]: the gateway on $tmp/kong.yml (DB-less, Wasm on, filters from
# $tmp/filters, errors-only log, no access log) plus the extra conf lines, on core CPU ("" = any); waits for /status
standalone_gateway() {
  local cpu=$1 dll=$2 pin=()
  shift 2
  [[ -z $cpu ]] || pin=(taskset -c "$cpu")
  printf '%s\n' "prefix = $tmp/prefix" "proxy_listen = 127.0.0.1:$proxy" "admin_listen = 127.0.0.1:$admin" \
    "admin_gui_listen = off" "database = off" "declarative_config = $tmp/kong.yml" "log_level = error" \
    "proxy_access_log = off" "wasm = on" "wasm_filters_path = $tmp/filters" "$@" >"$tmp/gatehouse.conf"
  "${pin[@]}" dotnet "$dll" start -c "$tmp/gatehouse.conf" >"$tmp/logs/gatehouse.out" 2>&1 &
  gh=$!
  pids+=($gh)
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$admin/status" >/dev/null 2>&1 && break; sleep 0.5; done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gh/stat"; }
