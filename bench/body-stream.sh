#!/usr/bin/env bash
# What body callbacks cost (issue #16, goal 3), in one Gatehouse process, route against route, interleaved:
#   g1    GET, no filter                      w1    GET through noop (exports every body callback, returns Continue)
#   w2    GET through bench-headers (no body callbacks)
#   post  POST 1 KiB, no filter               wb    POST 1 KiB through bench-body (pauses, rewrites the body)
#   big   GET 1 MiB, no filter                bigf  GET 1 MiB through noop (on_response_body per chunk)
#
#   bench/body-stream.sh [GATEHOUSE_DLL]   default: src/Gatehouse/bin/Release/net10.0/gatehouse.dll (build first)
#
# Gateway on core 0, nginx upstream and wrk on core 1 (bench/run.sh's layout). Per route and round: wrk for
# BODY_SECS seconds (default 5; -c64 for small requests, -c4 for the 1 MiB downloads), then the gateway's CPU
# (utime+stime from /proc/<pid>/stat) per request. BODY_ROUNDS rounds (default 3), interleaved; the median is
# reported with requests/s (and MiB/s for the downloads). CPU per request is the steadier figure on a shared box.
# Every process started here is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dll=${1:-$root/src/Gatehouse/bin/Release/net10.0/gatehouse.dll}
secs=${BODY_SECS:-5}
rounds=${BODY_ROUNDS:-3}
routes=${BODY_ROUTES:-g1 w1 w2 post wb big bigf}
# shellcheck source=lib/standalone.sh
source "$root/bench/lib/standalone.sh"
STANDALONE_KEEP=${BODY_KEEP:-}
standalone_begin bodystream
mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"   # nginx workers (nobody) serve the 1 MiB file
head -c 1048576 /dev/zero | tr '\0' 'a' >"$tmp/www/1m"
standalone_nginx 1 "access_log off; client_max_body_size 0; keepalive_requests 1000000;
  server { listen 127.0.0.1:$up backlog=4096; root $tmp/www;
    location = /1m { }
    location / { return 200 \"hello\\n\"; } }"
for f in noop bench-headers bench-body; do cp "$root/filters/test/$f.wasm" "$tmp/filters/"; done
cat >"$tmp/kong.yml" <<YML
_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:$up
    routes:
      - {name: g1, paths: ["~/g1\$"], strip_path: true}
      - {name: post, paths: ["~/post\$"], strip_path: true}
      - {name: w1, paths: ["~/w1\$"], strip_path: true, filter_chains: [{name: w1, filters: [{name: noop}]}]}
      - {name: w2, paths: ["~/w2\$"], strip_path: true, filter_chains: [{name: w2, filters: [{name: bench-headers}]}]}
      - {name: wb, paths: ["~/wb\$"], strip_path: true, filter_chains: [{name: wb, filters: [{name: bench-body}]}]}
  - name: big
    url: http://127.0.0.1:$up/1m
    routes:
      - {name: big, paths: ["~/big\$"], strip_path: true}
      - {name: bigf, paths: ["~/bigf\$"], strip_path: true, filter_chains: [{name: bigf, filters: [{name: noop}]}]}
YML
standalone_gateway 0 "$dll"
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = string.rep("abcdefghijklmnop", 64)
wrk.headers["Content-Type"] = "text/plain"
LUA
: >"$tmp/get.lua"
for r in g1 w1 w2 big bigf; do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$proxy/$r") == 200 ]] || { echo "route $r does not answer 200"; exit 1; }
done
[[ $(curl -s -X POST --data-binary abc "http://127.0.0.1:$proxy/wb") == "hello" ]] || { echo "route wb does not answer hello"; exit 1; }
[[ $(curl -s "http://127.0.0.1:$proxy/bigf" | wc -c) == 1048576 ]] || { echo "route bigf does not return 1 MiB"; exit 1; }
# run ROUTE SECONDS: prints "requests cpu_ticks"
run() {
  local route=$1 d=$2 script=get.lua conns=64 before after out
  [[ $route == post || $route == wb ]] && script=post.lua
  [[ $route == big* ]] && conns=4
  before=$(cpu_ticks)
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${d}s" -s "$tmp/$script" "http://127.0.0.1:$proxy/$route" 2>&1)
  after=$(cpu_ticks)
  echo "$(awk '/requests in/ {print $1}' <<<"$out") $((after - before)) $(grep -c 'Non-2xx' <<<"$out" || true)"
}
for r in $routes; do run "$r" 3 >/dev/null; done   # warm-up
declare -A results
for round in $(seq 1 "$rounds"); do
  for r in $routes; do
    results[$r]+="$(run "$r" "$secs");"
    sleep 1
  done
done
python3 - "$tck" "$secs" "$routes" "$(for r in $routes; do printf '%s=%s\n' "$r" "${results[$r]}"; done)" <<'EOF'
import statistics, sys
tck, secs, routes, raw = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
rows = {}
for line in raw.strip().splitlines():
    name, runs = line.split("=", 1)
    rows[name] = [tuple(float(x) for x in r.split()) for r in runs.strip(";").split(";")]
print("| route | req/s (median) | CPU µs/request (median) | runs: µs/request | non-2xx |")
print("|---|---:|---:|---|---:|")
med = {}
for name in routes:
    us = [1e6 * ticks / tck / n for n, ticks, _ in rows[name]]
    rps = statistics.median(n / secs for n, _, _ in rows[name])
    med[name] = statistics.median(us)
    extra = f" ({rps:.0f} MiB/s)" if name.startswith("big") else ""
    print(f"| {name} | {rps:,.0f}{extra} | {med[name]:.1f} | {', '.join(f'{u:.1f}' for u in us)} | {int(sum(e for _, _, e in rows[name]))} |")
def ratio(a, b):
    if a in med and b in med: print(f"- {a}: {med[b] / med[a]:.2f} × {b} (CPU per request: {b}'s / {a}'s)")
for a, b in (("w1", "g1"), ("w2", "g1"), ("wb", "g1"), ("wb", "post"), ("post", "g1"), ("bigf", "big")):
    ratio(a, b)
EOF
grep -iE "error|fail|trap" "$tmp/logs/gatehouse.out" | cut -c1-300 | sort | uniq -c | sort -rn | head -5 || true
