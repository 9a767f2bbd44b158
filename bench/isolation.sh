#!/usr/bin/env bash
# Wasm isolation measurement (issue #10, item 4): latency of a W1-like route (filter chain [noop]) while another
# route's filter spins to its deadline on every request, against the same load without the spinner.
#
#   bench/isolation.sh [GATEHOUSE_DLL]     default: src/Gatehouse/bin/Release/net10.0/gatehouse.dll (build first)
#
# Env: ISO_SECONDS (10), ISO_REPS (3), ISO_CONNECTIONS (32), ISO_SPINNERS (1), ISO_CONF_EXTRA ("key = v; …").
# Like bench/run.sh: upstream nginx (return 200) and the load tool on core 1, Gatehouse on core 0; runs alternate
# "quiet" (W1 load only) and "spin" (W1 load + ISO_SPINNERS clients looping on /spin with x-chaos: spin).
# Prints one line per run (with the gateway's CPU ms per 10,000 W1 requests, from /proc/<pid>/stat) and the median of
# each; every process started here is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dll=${1:-$root/src/Gatehouse/bin/Release/net10.0/gatehouse.dll}
secs=${ISO_SECONDS:-10} reps=${ISO_REPS:-3} conns=${ISO_CONNECTIONS:-32} spinners=${ISO_SPINNERS:-1}
# shellcheck source=lib/standalone.sh
source "$root/bench/lib/standalone.sh"
standalone_begin iso
standalone_nginx 1 "access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$up; location / { return 200 \"hello\\n\"; } }"
cp "$root/filters/test/noop.wasm" "$root/filters/test/chaos.wasm" "$tmp/filters/"
cat >"$tmp/kong.yml" <<YML
_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:$up
    routes:
      - name: w1
        paths: ["/w1"]
        filter_chains:
          - name: w1-chain
            filters: [{name: noop}]
      - name: spin
        paths: ["/spin"]
        filter_chains:
          - name: spin-chain
            filters: [{name: chaos}]
YML
extra=()
while IFS= read -r line; do [[ -n $line ]] && extra+=("$line"); done < <(tr ';' '\n' <<<"${ISO_CONF_EXTRA:-}" | sed 's/^ *//')
standalone_gateway 0 "$dll" "${extra[@]}"
# run LABEL ARGS...: one load run; appends the gateway's CPU ms per 10,000 main-route requests
run() {
  local label=$1 before after line rps
  shift
  before=$(cpu_ticks)
  line=$("${load[@]}" "$@")
  after=$(cpu_ticks)
  rps=$(sed -E 's/.*rps=([0-9]+).*/\1/' <<<"$line")
  echo "$label $line cpu_ms_per_10k=$(python3 -c "print(round(($after-$before)*1000/$tck/max(1,$rps*$secs)*10000, 1))")"
}
curl -fs "http://127.0.0.1:$proxy/w1" >/dev/null || { echo "gatehouse not ready"; tail "$tmp/logs/gatehouse.out"; exit 1; }
load=(taskset -c 1 dotnet "$root/bench/tools/isoload/bin/Release/net10.0/isoload.dll")
"${load[@]}" "http://127.0.0.1:$proxy/w1" "$conns" 3 >/dev/null   # warm-up
for r in $(seq 1 "$reps"); do
  run "quiet $r" "http://127.0.0.1:$proxy/w1" "$conns" "$secs"
  sleep 2
  run "spin  $r" "http://127.0.0.1:$proxy/w1" "$conns" "$secs" "http://127.0.0.1:$proxy/spin" "$spinners" x-chaos:spin
  sleep 2
done | tee "$tmp/runs.txt"
python3 - "$tmp/runs.txt" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kind = line.split()[0]
    vals = dict(re.findall(r"(\w+)=([^ ]+)", line))
    rows.setdefault(kind, []).append(vals)
for kind, runs in rows.items():
    med = {k: statistics.median(float(r[k]) for r in runs) for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "cpu_ms_per_10k")}
    print(f"median {kind}: rps={med['rps']:.0f} p50={med['p50_ms']:.2f} ms p90={med['p90_ms']:.2f} ms p99={med['p99_ms']:.2f} ms cpu/10k={med['cpu_ms_per_10k']:.0f} ms")
PY
