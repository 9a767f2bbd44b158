#!/usr/bin/env bash
# Body-buffering cost (issue #10, item 5): gateway CPU per upload of 1, 4 and 7 MiB through a filter that buffers
# the whole request body (filters/test/bench-body), against the same upload on a route without filters; then 20
# parallel 7 MiB uploads (wall time, peak RSS).
#
#   bench/body-cost.sh [GATEHOUSE_DLL]     default: src/Gatehouse/bin/Release/net10.0/gatehouse.dll (build first)
#
# CPU is utime+stime of the gateway process from /proc/<pid>/stat around each batch (BODY_REPS uploads, default 3),
# reported per upload. Upstream: nginx (return 200). Every process started here is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dll=${1:-$root/src/Gatehouse/bin/Release/net10.0/gatehouse.dll}
reps=${BODY_REPS:-3}
# shellcheck source=lib/standalone.sh
source "$root/bench/lib/standalone.sh"
standalone_begin body
standalone_nginx "" "access_log off; client_max_body_size 0;
  server { listen 127.0.0.1:$up; location / { return 200 \"ok\\n\"; } }"
cp "$root/filters/test/bench-body.wasm" "$tmp/filters/"
cat >"$tmp/kong.yml" <<YML
_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:$up
    routes:
      - name: buffered
        paths: ["/buffered"]
        filter_chains: [{name: body-chain, filters: [{name: bench-body}]}]
      - name: plain
        paths: ["/plain"]
YML
standalone_gateway "" "$dll"
for mib in 1 4 7; do python3 -c "import base64,os,sys; sys.stdout.write(base64.b64encode(os.urandom($mib * 786432)).decode())" >"$tmp/body-$mib"; done
upload() { curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$tmp/body-$2" -H 'content-type: text/plain' "http://127.0.0.1:$proxy/$1/x"; }
upload plain 1 >/dev/null; upload buffered 1 >/dev/null   # warm-up
for route in plain buffered; do
  for mib in 1 4 7; do
    before=$(cpu_ticks)
    codes=""
    for _ in $(seq 1 "$reps"); do codes+="$(upload "$route" "$mib") "; done
    after=$(cpu_ticks)
    echo "$route ${mib} MiB: cpu_ms_per_upload=$(( (after - before) * 1000 / tck / reps )) statuses=${codes% }"
  done
done
start=$(date +%s.%N)
for _ in $(seq 1 20); do upload buffered 7 >"$tmp/par-$_" & done
wait $(jobs -p | grep -v -w -e "${pids[0]}" -e "$gh") 2>/dev/null || true
end=$(date +%s.%N)
echo "20 parallel 7 MiB buffered uploads: wall_s=$(python3 -c "print(round($end-$start,2))") statuses=$(cat "$tmp"/par-* | fold -w3 | sort | uniq -c | tr -s ' ' | tr '\n' ';') peak_rss_mb=$(( $(awk '/VmHWM/ {print $2}' "/proc/$gh/status") / 1024 ))"
grep -iE "error|fail|trap" "$tmp/logs/gatehouse.out" | cut -c1-400 | sort | uniq -c | sort -rn | head -5 || true
