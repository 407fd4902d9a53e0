#!/usr/bin/env bash
# Install (if needed) and start a private PostgreSQL server for the tests and benchmarks.
#
#   scripts/postgres.sh start   # prints the DATABASE_URL to use
#   scripts/postgres.sh stop
#
# The server lives in $ATELIER_PG_DIR (default /tmp/atelier-pg), listens on 127.0.0.1 only,
# port $ATELIER_PG_PORT (default 55432), with trust authentication for local connections.
set -euo pipefail

PGDIR=${ATELIER_PG_DIR:-/tmp/atelier-pg}
PORT=${ATELIER_PG_PORT:-55432}
DB=${ATELIER_PG_DB:-atelier_test}
URL="postgresql://postgres@127.0.0.1:${PORT}/${DB}"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_server() {
  if ! find_bin >/dev/null; then
    echo "installing PostgreSQL from Debian packages..." >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir "$PGDIR" postgres
  fi
}

start() {
  install_server
  local bin; bin=$(find_bin)
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
    as_owner "$bin/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_owner "$bin/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  fi
  echo "$URL"
}

stop() {
  local bin; bin=$(find_bin) || exit 0
  as_owner "$bin/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
