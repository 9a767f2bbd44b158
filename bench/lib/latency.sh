# shellcheck shell=bash
# `bench/run.sh latency`: issue #16 goal 1's latency half — G1's p99 against nginx's at half of nginx's
# saturating rate (docs/benchmarks.md: "p99 ≤ nginx p99 + 1 ms at half of nginx's saturating rate").
#
# The closed-loop runs of the full table report p99 at each proxy's own saturation, where a slower proxy queues
# more and its p99 follows its throughput; this measures both at the same offered rate instead. nginx's rate is
# measured first (warm-up, then one BENCH_DURATION run at full load); then both are held at half of it with
# wrk's delay() hook (lua/throttle.lua, as the soak: rate ≈ connections × 1000 / (delay + latency)): up to three
# BENCH_WARMUP-second aiming runs each, then BENCH_REPS interleaved BENCH_DURATION runs, each followed by
# re-aiming that proxy's delay from its achieved rate. bench/tools/latency.py writes the report.

# aim_delay C TARGET ACHIEVED DELAY: the delay (ms) that brings ACHIEVED to TARGET with C connections, taking
# the latency term from the last run (cycle per connection = delay + latency); 0 when the proxy cannot keep up.
aim_delay() {
  awk -v c="$1" -v r="$2" -v a="$3" -v d="$4" 'BEGIN {
    if (a <= 0) { printf "%.3f", d; exit }
    l = c * 1000 / a - d; nd = c * 1000 / r - l; printf "%.3f", (nd < 0 ? 0 : nd) }'
}

run_latency() {
  local ids=(nginx G1) id rep target= out standard=0 reason=
  declare -A base_env=() delay=()
  ensure_tools
  init_tmp
  export_params
  start_upstream_once
  publish_gatehouse
  [[ -n $GATEHOUSE_UNAVAILABLE ]] && log "Gatehouse not available: $GATEHOUSE_UNAVAILABLE"
  for id in "${ids[@]}"; do setup_scenario "$id"; done
  init_raw
  for id in "${ids[@]}"; do
    [[ ${S_STATUS[$id]} == ok ]] || { reason="$id: ${S_REASON[$id]:-not available}"; continue; }
    log "$id: warm-up ${BENCH_WARMUP}s"
    run_wrk "$id" warmup 0 "$BENCH_WARMUP" || retire "$id"
    settle
  done
  if [[ ${S_STATUS[nginx]} == ok ]]; then
    log "nginx: its saturating rate (${BENCH_DURATION}s at full load)"
    if run_wrk nginx saturate 1 "$BENCH_DURATION"; then
      target=$(awk -v r="$(last_rps nginx)" 'BEGIN { printf "%.0f", r / 2 }')
    else
      retire nginx
    fi
    settle
  fi
  if [[ -n $target ]]; then
    log "offered rate: $target req/s (half of nginx's)"
    for id in "${ids[@]}"; do
      [[ ${S_STATUS[$id]} == ok ]] || continue
      base_env[$id]="${S_ENV[$id]} BENCH_BASE_SCRIPT=${S_SCRIPT[$id]}"
      S_SCRIPT[$id]=throttle.lua
      delay[$id]=$(awk -v c="$BENCH_CONNECTIONS" -v r="$target" 'BEGIN { printf "%.3f", c * 1000 / r }')
    done
    # aiming: up to three short runs per proxy, until it delivers within 5 % of the target (or cannot keep up)
    for id in "${ids[@]}"; do
      for ((rep = 1; rep <= 3; rep++)); do
        [[ ${S_STATUS[$id]} == ok ]] || break
        S_ENV[$id]="${base_env[$id]} BENCH_DELAY_MS=${delay[$id]}"
        run_wrk "$id" aim "$rep" "$BENCH_WARMUP" || { retire "$id"; break; }
        local achieved
        achieved=$(last_rps "$id")
        delay[$id]=$(aim_delay "$BENCH_CONNECTIONS" "$target" "$achieved" "${delay[$id]}")
        settle
        awk -v a="$achieved" -v r="$target" -v d="${delay[$id]}" 'BEGIN { exit !((a > 0.95 * r && a < 1.05 * r) || d == 0) }' && break
      done
    done
    for ((rep = 1; rep <= BENCH_REPS; rep++)); do
      for id in "${ids[@]}"; do
        [[ ${S_STATUS[$id]} == ok ]] || continue
        S_ENV[$id]="${base_env[$id]} BENCH_DELAY_MS=${delay[$id]}"
        run_wrk "$id" rate "$rep" "$BENCH_DURATION" || { retire "$id"; continue; }
        delay[$id]=$(aim_delay "$BENCH_CONNECTIONS" "$target" "$(last_rps "$id")" "${delay[$id]}")
        settle
      done
    done
  fi
  write_status "${ids[@]}"
  for id in "${ids[@]}"; do [[ ${S_STATUS[$id]} == ok ]] && retire "$id"; done
  standard_params && standard=1
  out=$(results_path "$standard" -latency)
  python3 "$BENCH_TOOLS/latency.py" --raw "$BENCH_TMP/raw.tsv" --status "$BENCH_TMP/status.tsv" \
    --target "${target:-0}" --reason "$reason" --out "$out" $([[ $standard == 1 ]] && echo --standard) \
    || die "latency report failed"
  log "results: $out"
}
