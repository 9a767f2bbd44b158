# shellcheck shell=bash
# A private PostgreSQL server for G1-pg and bench/propagation.sh: Debian's initdb into $BENCH_TMP/pg, postgres on
# 127.0.0.1 and a free port (trust authentication, durability off), as the postgres user when run as root (PostgreSQL
# refuses root). Stopped with everything else on exit (track_pid). Sets BENCH_PG_PORT; BENCH_PG_USER is the role.
BENCH_PG_PORT=
BENCH_PG_USER=gatehouse
BENCH_PG_CPU=${BENCH_PG_CPU:-$BENCH_LOAD_CPU}   # away from the system under test

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -rn); do
    [[ -x $d/initdb && -x $d/postgres ]] && { echo "$d"; return 0; }
  done
  return 1
}

as_postgres() {
  if [[ $(id -u) == 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi
}

# start_postgres_once: starts the server unless it runs; returns 1 with SERVER_ERROR set when it cannot.
start_postgres_once() {
  [[ -n $BENCH_PG_PORT ]] && return 0
  local bin dir port i
  bin=$(pg_bin) || { SERVER_ERROR="PostgreSQL is not installed (apt-get install postgresql)"; return 1; }
  dir="$BENCH_TMP/pg"
  mkdir -p "$dir"
  # the postgres user must reach its directory through the (private) work dir
  [[ $(id -u) == 0 ]] && { chmod o+x "$BENCH_TMP"; chown -R postgres:postgres "$dir"; }
  if ! as_postgres "$bin/initdb" -D "$dir/data" -U "$BENCH_PG_USER" --auth=trust --no-sync -E UTF8 --locale=C >"$BENCH_TMP/pg-initdb.log" 2>&1; then
    SERVER_ERROR="initdb failed: $(tail -n 2 "$BENCH_TMP/pg-initdb.log" | tr '\n' ' ')"
    return 1
  fi
  port=$(alloc_ports 1)
  local as=()
  [[ $(id -u) == 0 ]] && as=(setpriv --reuid=postgres --regid=postgres --init-groups)
  taskset -c "$BENCH_PG_CPU" "${as[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off >"$BENCH_TMP/pg.log" 2>&1 &
  track_pid $!
  for ((i = 0; i < 200; i++)); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then BENCH_PG_PORT=$port; export BENCH_PG_PORT BENCH_PG_USER; return 0; fi
    sleep 0.1
  done
  SERVER_ERROR="postgres did not accept connections: $(tail -n 2 "$BENCH_TMP/pg.log" | tr '\n' ' ')"
  return 1
}

# pg_create_database NAME: a new empty database on the bench server.
pg_create_database() {
  "$(pg_bin)/createdb" -h 127.0.0.1 -p "$BENCH_PG_PORT" -U "$BENCH_PG_USER" "$1"
}
