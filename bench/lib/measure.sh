# shellcheck shell=bash
# Scenario set-up (server + pre-flight check) and measurement (wrk + /proc accounting).
# Per-scenario state lives in these maps, keyed by scenario id:
declare -A S_STATUS=() S_REASON=() S_PID=() S_URL=() S_ENV=() S_SCRIPT=() S_READY=() S_NOTE=() S_ADMIN=()
UPSTREAM_PORT=
UPSTREAM_PID=
OTLP_PORT=
OTLP_ERROR=
RAW_COLUMNS="scenario phase rep requests duration_us p50_us p99_us max_us err_connect err_read err_write err_status err_timeout cpu_ticks clk_tck hwm_kb rss_kb others_ticks"

na() { S_STATUS[$1]=na; S_REASON[$1]=$2; log "$1: not available — $2"; }

# preflight ID HOSTPORT [ADMIN] [TARGETS]: runs bench/tools/preflight.py; notes kept for the report.
preflight() {
  local id=$1 out rc=0 tls=
  [[ $(python3 "$BENCH_TOOLS/scenarios.py" tls "$id") == 1 ]] && tls=--tls
  out=$(python3 "$BENCH_TOOLS/preflight.py" "$id" --proxy "$2" ${3:+--admin "$3"} ${4:+--targets "$4"} \
        ${OTLP_PORT:+--otlp "127.0.0.1:$OTLP_PORT"} $tls 2>&1) || rc=$?
  if ((rc)); then na "$id" "$(tail -n 1 <<<"$out")"; return 1; fi
  S_NOTE[$id]=$(grep '^note:' <<<"$out" | sed 's/^note: //' | tr '\n' ' ')
  return 0
}

start_upstream_once() {
  [[ -n $UPSTREAM_PID ]] && return 0
  UPSTREAM_PORT=$(alloc_ports 1)
  local addresses
  addresses=$(python3 "$BENCH_TOOLS/scenarios.py" upstream-addresses)
  start_upstream "$UPSTREAM_PORT" "$addresses" || die "$SERVER_ERROR"
  UPSTREAM_PID=$SERVER_PID
  log "upstream nginx on 127.0.0.1-$addresses:$UPSTREAM_PORT (core $BENCH_LOAD_CPU), pid $UPSTREAM_PID"
}

# start_otlp_receiver_once: the O1 scenarios' receiver, shared by them (each exports on its own path).
start_otlp_receiver_once() {
  [[ -n $OTLP_PORT ]] && return 0
  [[ -n $OTLP_ERROR ]] && { SERVER_ERROR=$OTLP_ERROR; return 1; }
  local port
  port=$(alloc_ports 1)
  if ! start_otlp_receiver "$port"; then OTLP_ERROR=$SERVER_ERROR; return 1; fi
  OTLP_PORT=$port
  log "OTLP receiver on 127.0.0.1:$OTLP_PORT (core $BENCH_LOAD_CPU), pid $SERVER_PID"
}

# after_runs IDS...: notes from bench/tools/preflight.py --after for the scenarios that export spans (what the
# receiver took, the spans the gateway dropped), added to their pre-flight notes.
after_runs() {
  local id out
  for id in "$@"; do
    [[ ${S_STATUS[$id]} == ok && $(python3 "$BENCH_TOOLS/scenarios.py" otlp "$id") == 1 ]] || continue
    out=$(python3 "$BENCH_TOOLS/preflight.py" "$id" --after --admin "${S_ADMIN[$id]}" --otlp "127.0.0.1:$OTLP_PORT" 2>&1)
    S_NOTE[$id]+=" $(grep '^note:' <<<"$out" | sed 's/^note: //' | tr '\n' ' ')"
    log "$id: $(tr '\n' ' ' <<<"$out")"
  done
}

# setup_scenario ID: starts what the scenario measures, checks it, fills the S_* maps.
setup_scenario() {
  local id=$1 kind ports proxy admin dir env database rc=0 scheme=http tls_dir=
  kind=$(python3 "$BENCH_TOOLS/scenarios.py" kind "$id") || die "unknown scenario $id"
  S_SCRIPT[$id]=$(python3 "$BENCH_TOOLS/scenarios.py" script "$id")
  S_ENV[$id]=""
  if [[ $(python3 "$BENCH_TOOLS/scenarios.py" tls "$id") == 1 ]]; then
    if ! ensure_bench_cert; then na "$id" "$SERVER_ERROR"; return 0; fi
    scheme=https tls_dir=$BENCH_TLS_DIR
  fi
  case $kind in
    direct)
      S_PID[$id]=$UPSTREAM_PID
      S_URL[$id]="http://127.0.0.1:$UPSTREAM_PORT/"
      preflight "$id" "127.0.0.1:$UPSTREAM_PORT" || return 0
      ;;
    nginx)
      proxy=$(alloc_ports 1)
      if ! start_nginx_proxy "$proxy" "$UPSTREAM_PORT" "$tls_dir" "$id"; then na "$id" "$SERVER_ERROR"; return 0; fi
      S_PID[$id]=$SERVER_PID
      S_URL[$id]="$scheme://127.0.0.1:$proxy/"
      preflight "$id" "127.0.0.1:$proxy" || { stop_tree "$SERVER_PID"; return 0; }
      ;;
    gatehouse)
      if [[ -z $GATEHOUSE_BIN ]]; then na "$id" "${GATEHOUSE_UNAVAILABLE:-no gatehouse binary}"; return 0; fi
      database=$(python3 "$BENCH_TOOLS/scenarios.py" database "$id")
      if [[ $database == postgres ]] && ! start_postgres_once; then na "$id" "$SERVER_ERROR"; return 0; fi
      if [[ $(python3 "$BENCH_TOOLS/scenarios.py" otlp "$id") == 1 ]] && ! start_otlp_receiver_once; then
        na "$id" "$SERVER_ERROR"; return 0
      fi
      read -r proxy admin <<<"$(alloc_ports 2)"
      dir="$BENCH_TMP/$id"
      mkdir -p "$dir"
      env=$(python3 "$BENCH_TOOLS/prepare.py" "$id" --dir "$dir" --upstream-port "$UPSTREAM_PORT" \
            --proxy-port "$proxy" --admin-port "$admin" --filters-src "$BENCH_FILTERS_DIR" --tls-dir "$tls_dir" \
            ${OTLP_PORT:+--otlp-port "$OTLP_PORT"} \
            2>"$dir/prepare.err") || rc=$?
      if ((rc)); then na "$id" "config generation failed: $(tail -n 1 "$dir/prepare.err")"; return 0; fi
      S_ENV[$id]=$(tr '\n' ' ' <<<"$env")
      if ! start_gatehouse "$dir" "$proxy" "$admin"; then na "$id" "$SERVER_ERROR"; return 0; fi
      if [[ $database == postgres ]] && ! python3 "$BENCH_TOOLS/pg_seed.py" --admin "127.0.0.1:$admin" --proxy "127.0.0.1:$proxy" \
           --upstream-port "$UPSTREAM_PORT" --pg-port "$BENCH_PG_PORT" --pg-user "$BENCH_PG_USER" >"$dir/seed.log" 2>&1; then
        na "$id" "seeding PostgreSQL failed: $(tail -n 1 "$dir/seed.log")"; stop_tree "$SERVER_PID"; return 0
      fi
      S_PID[$id]=$SERVER_PID
      S_ADMIN[$id]="127.0.0.1:$admin"
      S_READY[$id]=$SERVER_READY_S
      S_URL[$id]="$scheme://127.0.0.1:$proxy/"
      preflight "$id" "127.0.0.1:$proxy" "127.0.0.1:$admin" "$dir/targets.txt" || { stop_tree "$SERVER_PID"; return 0; }
      ;;
  esac
  S_STATUS[$id]=ok
  log "$id: ready (pid ${S_PID[$id]}, ${S_URL[$id]}${S_READY[$id]:+, started in ${S_READY[$id]}s})"
}

# idle_pids ID: the process trees of the OTHER scenarios' servers (all stay up, idle, on core 0).
idle_pids() {
  local other
  for other in "${!S_STATUS[@]}"; do
    [[ $other != "$1" && ${S_STATUS[$other]} == ok && ${S_PID[$other]} != "$UPSTREAM_PID" ]] && tree_pids "${S_PID[$other]}"
  done
  return 0
}

# run_wrk ID PHASE REP SECONDS: one wrk run against the scenario; appends a row to raw.tsv.
# Also records the CPU the idle servers of the other scenarios used meanwhile (they share core 0).
run_wrk() {
  local id=$1 phase=$2 rep=$3 secs=$4 pids before after out line wrk_pid rc=0 others others_before
  local sut=${S_PID[$id]}
  out="$BENCH_TMP/wrk-$id-$phase-$rep.txt"
  pids=$(tree_pids "$sut")
  others=$(idle_pids "$id")
  # shellcheck disable=SC2086
  others_before=$(cpu_ticks $others)
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  # shellcheck disable=SC2086
  env ${S_ENV[$id]} taskset -c "$BENCH_LOAD_CPU" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${secs}s" \
    --latency -s "$BENCH_LUA_DIR/${S_SCRIPT[$id]}" "${S_URL[$id]}" >"$out" 2>&1 &
  wrk_pid=$!
  track_pid "$wrk_pid"
  wait "$wrk_pid" || rc=$?
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  if ! alive "$sut"; then na "$id" "the server died during $phase run $rep"; return 1; fi
  line=$(sed -n 's/^BENCH_RESULT //p' "$out")
  if ((rc)) || [[ -z $line ]]; then na "$id" "wrk failed (rc $rc): $(tail -n 2 "$out" | tr '\n' ' ')"; return 1; fi
  declare -A r=()
  local kv
  for kv in $line; do r[${kv%%=*}]=${kv#*=}; done
  local row=("$id" "$phase" "$rep")
  local k
  for k in requests duration_us p50_us p99_us max_us err_connect err_read err_write err_status err_timeout; do
    row+=("${r[$k]:-0}")
  done
  # shellcheck disable=SC2086
  row+=("$((after - before))" "$CLK_TCK" "$(status_kb VmHWM $pids)" "$(status_kb VmRSS $pids)" \
        "$(($(cpu_ticks $others) - others_before))")
  (IFS=$'\t'; echo "${row[*]}") >>"$BENCH_TMP/raw.tsv"
  log "$id $phase $rep: $(awk -v n="${r[requests]}" -v d="${r[duration_us]}" 'BEGIN { printf "%.0f", n / (d / 1e6) }') req/s, p99 $((${r[p99_us]} / 1000)).$(printf '%03d' $((${r[p99_us]} % 1000))) ms, cpu $((after - before)) ticks"
}

# retire ID: stop a scenario's server after a failure (never the shared upstream).
retire() { [[ ${S_PID[$1]} == "$UPSTREAM_PID" ]] || stop_tree "${S_PID[$1]}"; }

# settle: pause after a run. A server keeps working for a moment after its load stops (a .NET
# gateway was seen burning ~0.7 s of CPU 1-3 s after wrk ended); without the pause that lands in
# the next scenario's run on the same core. The 'idle others' column shows what is left.
settle() { sleep "$BENCH_SETTLE"; }

init_raw() { printf '%s\n' "$RAW_COLUMNS" | tr ' ' '\t' >"$BENCH_TMP/raw.tsv"; }

# measure IDS...: warm-up each, then BENCH_REPS rounds over all of them (A B A B ...).
measure() {
  local id rep
  init_raw
  for id in "$@"; do
    [[ ${S_STATUS[$id]} == ok ]] || continue
    log "$id: warm-up ${BENCH_WARMUP}s"
    run_wrk "$id" warmup 0 "$BENCH_WARMUP" || retire "$id"
    settle
  done
  for ((rep = 1; rep <= BENCH_REPS; rep++)); do
    for id in "$@"; do
      [[ ${S_STATUS[$id]} == ok ]] || continue
      run_wrk "$id" run "$rep" "$BENCH_DURATION" || retire "$id"
      settle
    done
  done
}

# write_status IDS...: status.tsv for the report (id, status, startup seconds, reason, notes).
write_status() {
  local id
  printf 'scenario\tstatus\tready_s\treason\tnote\n' >"$BENCH_TMP/status.tsv"
  for id in "$@"; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$id" "${S_STATUS[$id]:-na}" "${S_READY[$id]:-}" \
      "$(tr '\t\n' '  ' <<<"${S_REASON[$id]:-}")" "$(tr '\t\n' '  ' <<<"${S_NOTE[$id]:-}")" >>"$BENCH_TMP/status.tsv"
  done
}
