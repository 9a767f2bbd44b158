# shellcheck shell=bash
# `bench/run.sh soak`: BENCH_SOAK_MINUTES at half of G1's measured rate with ten filters loaded
# (scenario W10), sampling RSS every BENCH_SOAK_SAMPLE seconds; bench/tools/soak.py fits the
# slope after the first minute.
#
# Rate control: wrk2 is not packaged, so wrk runs with a delay() hook (bench/lua/throttle.lua)
# that holds each connection for D ms between requests: rate ≈ connections × 1000 / (D + latency).
# The soak is cut into BENCH_SOAK_SEGMENT-second wrk runs; after each, the latency term is
# estimated from the achieved rate and D is corrected for the next run. A separate rate-limited
# client (e.g. Python) would itself need the load core's CPU at thousands of requests per second
# and add its own jitter; wrk's event loop keeps the client cost what it is in the other runs.

# last_rps ID: requests/s of the last raw.tsv row of ID.
last_rps() {
  awk -F'\t' -v id="$1" '$1 == id { n = $4; d = $5 } END { if (d > 0) printf "%.3f", n / (d / 1e6) }' "$BENCH_TMP/raw.tsv"
}

# rss_sampler PID FILE: one line "epoch_seconds VmRSS_kB VmHWM_kB" every BENCH_SOAK_SAMPLE s.
rss_sampler() {
  local pid=$1 file=$2
  while alive "$pid"; do
    echo "$(date +%s.%N) $(status_kb VmRSS "$pid") $(status_kb VmHWM "$pid")" >>"$file"
    sleep "$BENCH_SOAK_SAMPLE"
  done
}

run_soak() {
  local id=$BENCH_SOAK_SCENARIO target out sampler segments i delay lat=0 achieved t0 standard=0
  ensure_tools
  init_tmp
  export_params
  start_upstream_once
  publish_gatehouse
  init_raw
  : >"$BENCH_TMP/rss.tsv"
  target=$BENCH_SOAK_RPS
  if [[ -z $target ]]; then
    setup_scenario G1
    if [[ ${S_STATUS[G1]} == ok ]]; then
      log "G1: measuring the rate (${BENCH_WARMUP}s warm-up + ${BENCH_DURATION}s)"
      run_wrk G1 warmup 0 "$BENCH_WARMUP" && run_wrk G1 run 1 "$BENCH_DURATION" \
        && target=$(awk -v r="$(last_rps G1)" 'BEGIN { printf "%.0f", r / 2 }')
      retire G1
    fi
  fi
  if [[ -z $target ]]; then
    S_STATUS[$id]=na
    S_REASON[$id]="G1's rate could not be measured: ${S_REASON[G1]:-unknown}"
  else
    setup_scenario "$id"
  fi
  if [[ ${S_STATUS[$id]} == ok ]]; then
    segments=$(((BENCH_SOAK_MINUTES * 60 + BENCH_SOAK_SEGMENT - 1) / BENCH_SOAK_SEGMENT))
    delay=$(awk -v c="$BENCH_CONNECTIONS" -v r="$target" 'BEGIN { printf "%.3f", c * 1000 / r }')
    log "soak: $id for ${BENCH_SOAK_MINUTES} min at $target req/s (pid ${S_PID[$id]})"
    t0=$(date +%s.%N)
    rss_sampler "${S_PID[$id]}" "$BENCH_TMP/rss.tsv" &
    sampler=$!
    track_pid "$sampler"
    local base_env="${S_ENV[$id]} BENCH_BASE_SCRIPT=${S_SCRIPT[$id]}"
    S_SCRIPT[$id]=throttle.lua
    for ((i = 1; i <= segments; i++)); do
      S_ENV[$id]="$base_env BENCH_DELAY_MS=$delay"
      run_wrk "$id" soak "$i" "$BENCH_SOAK_SEGMENT" || { retire "$id"; break; }
      achieved=$(last_rps "$id")
      # cycle per connection = delay + latency: estimate the latency term (smoothed over the
      # segments, so one noisy minute does not swing the rate), then re-aim the delay.
      read -r lat delay < <(awk -v c="$BENCH_CONNECTIONS" -v r="$target" -v a="$achieved" -v d="$delay" \
        -v l="$lat" -v i="$i" 'BEGIN { nl = c * 1000 / a - d; if (i > 1) nl = (l + nl) / 2
          nd = c * 1000 / r - nl; printf "%.3f %.3f\n", nl, (nd < 0 ? 0 : nd) }')
    done
    stop_tree "$sampler"
    echo "$(date +%s.%N) $(status_kb VmRSS "${S_PID[$id]}") $(status_kb VmHWM "${S_PID[$id]}")" >>"$BENCH_TMP/rss.tsv"
    retire "$id"
  fi
  [[ $BENCH_SOAK_MINUTES == 10 ]] && standard_params && [[ -z $BENCH_SOAK_RPS ]] && standard=1
  out=$(results_path "$standard" -soak)
  python3 "$BENCH_TOOLS/soak.py" --scenario "$id" --status "${S_STATUS[$id]:-na}" --reason "${S_REASON[$id]:-}" \
    --target "${target:-0}" --t0 "${t0:-0}" --rss "$BENCH_TMP/rss.tsv" --raw "$BENCH_TMP/raw.tsv" \
    --skip "$BENCH_SOAK_SKIP" --out "$out" $([[ $standard == 1 ]] && echo --standard) || die "soak report failed"
  log "results: $out"
}
