#!/usr/bin/env bash
# Run Atelier as a cluster on this machine: PostgreSQL, SeaweedFS (S3), N app replicas, M job
# workers and HAProxy in front, every port on 127.0.0.1.
#
#   scripts/cluster.sh up       # start what is not running; then prints `status`
#   scripts/cluster.sh status   # one key=value a line: url=, database_url=, blob_url=,
#                               #   replica_pids=, worker_pids=, haproxy_pid=, ...
#   scripts/cluster.sh down     # stop the replicas, workers and HAProxy (the database and
#                               #   the object store keep running, with their data)
#
# Settings (environment): ATELIER_CLUSTER_DIR (default /tmp/atelier-cluster: logs, pid files,
# the shared key folder), ATELIER_CLUSTER_PORT (default 58080: HAProxy; the replicas take the
# ports after it), ATELIER_CLUSTER_REPLICAS (3), ATELIER_CLUSTER_WORKERS (2),
# ATELIER_CLUSTER_DB (atelier_cluster), ATELIER_CLUSTER_FRESH=1 (`up` starts from an empty
# database and a new blob prefix). HAProxy is Debian's package, installed if missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/processes.sh
. "$ROOT/scripts/processes.sh"
DIR=${ATELIER_CLUSTER_DIR:-/tmp/atelier-cluster}
PORT=${ATELIER_CLUSTER_PORT:-58080}
REPLICAS=${ATELIER_CLUSTER_REPLICAS:-3}
WORKERS=${ATELIER_CLUSTER_WORKERS:-2}
DB=${ATELIER_CLUSTER_DB:-atelier_cluster}
BIN="$ROOT/.venv/bin"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

pids_of() {
  local kind=$1 list="" f
  for f in "$DIR"/"$kind"-*.pid; do
    [ -f "$f" ] || continue
    if alive "$f"; then list="${list:+$list,}$(cat "$f")"; fi
  done
  echo "$list"
}

install_haproxy() {
  if ! command -v haproxy >/dev/null 2>&1; then
    echo "installing HAProxy from Debian packages..." >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq haproxy >&2
  fi
}

http_ok() { [ "$(http_status GET "$1")" = 200 ]; }

environment() {
  # the settings every replica and worker shares, as NAME=value lines
  echo "DATABASE_URL=$(cat "$DIR/database_url")"
  echo "ATELIER_DATA_DIR=$DIR/data"
  echo "ATELIER_BLOB_URL=$(cat "$DIR/blob_url")"
  "$ROOT/scripts/seaweedfs.sh" env | grep '^AWS_'
  echo "ATELIER_TRUSTED_PROXIES=127.0.0.1"
  echo "ATELIER_APP_WORKER=0"
  echo "ATELIER_DB_POOL_SIZE=5"
  # a worker that stops reporting for this long is taken to have died (a training job reports
  # every step; the default, 300 s, suits a lone machine)
  echo "ATELIER_JOB_STALE_SECONDS=${ATELIER_JOB_STALE_SECONDS:-20}"
}

write_haproxy_config() {
  {
    cat <<EOF
# made by scripts/cluster.sh
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    # Gradio's event streams stay open
    timeout tunnel 1h
    # a request whose replica is down goes to another (only before any byte was sent to it:
    # a purchase a dead replica may have made is retried by the client with its key)
    option redispatch
    retries 2
    # a replica killed with a connection open answers nothing: a page, its config or a file
    # (GET) is asked of another; a POST is retried only when it never reached a replica
    retry-on conn-failure empty-response response-timeout
frontend atelier
    bind 127.0.0.1:$PORT
    # the replicas believe X-Forwarded-For from HAProxy alone: a client's own goes
    http-request del-header X-Forwarded-For
    http-request del-header Forwarded
    option forwardfor
    default_backend replicas
backend replicas
    balance roundrobin
    # Gradio's queue keeps a person's events on the replica that took them: stick by cookie
    cookie atelier_replica insert indirect nocache httponly
    http-request disable-l7-retry if METH_POST
    option httpchk GET /health
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
EOF
    local i
    for i in $(seq 1 "$REPLICAS"); do
      echo "    server r$i 127.0.0.1:$((PORT + i)) check cookie r$i"
    done
  } >"$DIR/haproxy.cfg"
}

up() {
  mkdir -p "$DIR/data"
  install_haproxy
  if [ "${ATELIER_CLUSTER_FRESH:-0}" = 1 ] || [ ! -f "$DIR/database_url" ]; then
    down >/dev/null 2>&1 || true
    local pgbin
    pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -1)" 2>/dev/null || true)
    ATELIER_PG_DB=postgres "$ROOT/scripts/postgres.sh" start >/dev/null
    if [ -n "$pgbin" ]; then
      PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -q -h 127.0.0.1 -p "${ATELIER_PG_PORT:-55432}" -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
    fi
    echo "s3://atelier/cluster-$(date +%s)-$RANDOM" >"$DIR/blob_url"
    rm -rf "$DIR/data"
    mkdir -p "$DIR/data"
  fi
  # a port another program holds (a cluster started from another folder, say) is named
  # before anything starts, not found later in a replica's log or HAProxy's refusal
  local i
  if ! alive "$DIR/haproxy.pid" && ! port_free "$PORT"; then
    echo "port $PORT on 127.0.0.1 is taken by another program: stop it, or set ATELIER_CLUSTER_PORT to a free port" >&2
    return 1
  fi
  for i in $(seq 1 "$REPLICAS"); do
    if ! alive "$DIR/replica-$i.pid" && ! port_free $((PORT + i)); then
      echo "port $((PORT + i)) on 127.0.0.1 (replica $i) is taken by another program: stop it, or set ATELIER_CLUSTER_PORT so that the $((REPLICAS + 1)) ports from it are free" >&2
      return 1
    fi
  done
  ATELIER_PG_DB="$DB" "$ROOT/scripts/postgres.sh" start >"$DIR/database_url"
  "$ROOT/scripts/seaweedfs.sh" start >/dev/null
  set -a
  eval "$(environment)"
  set +a
  # migrate the schema and make the shared keys once, before processes race to
  "$BIN/python" - <<'PY'
from atelier.bootstrap import Services
services = Services.from_settings()
services.log_signer, services.c2pa, services.preview_secret
PY
  for i in $(seq 1 "$REPLICAS"); do
    if ! alive "$DIR/replica-$i.pid"; then
      nohup "$BIN/atelier" serve --host 127.0.0.1 --port $((PORT + i)) \
        >"$DIR/replica-$i.log" 2>&1 &
      echo $! >"$DIR/replica-$i.pid"
    fi
  done
  for i in $(seq 1 "$WORKERS"); do
    if ! alive "$DIR/worker-$i.pid"; then
      nohup "$BIN/atelier" worker --poll 0.5 >"$DIR/worker-$i.log" 2>&1 &
      echo $! >"$DIR/worker-$i.pid"
    fi
  done
  write_haproxy_config
  if ! alive "$DIR/haproxy.pid"; then
    haproxy -c -q -f "$DIR/haproxy.cfg"
    haproxy -D -f "$DIR/haproxy.cfg" -p "$DIR/haproxy.pid"
  fi
  for i in $(seq 1 "$REPLICAS"); do
    local tries=0
    until http_ok "http://127.0.0.1:$((PORT + i))/health"; do
      tries=$((tries + 1))
      if [ $tries -gt 240 ] || ! alive "$DIR/replica-$i.pid"; then
        echo "replica $i did not start; its log:" >&2
        tail -20 "$DIR/replica-$i.log" >&2
        return 1
      fi
      sleep 0.5
    done
  done
  until http_ok "http://127.0.0.1:$PORT/health"; do sleep 0.5; done
  status
}

status() {
  echo "url=http://127.0.0.1:$PORT/"
  echo "database_url=$(cat "$DIR/database_url" 2>/dev/null)"
  echo "blob_url=$(cat "$DIR/blob_url" 2>/dev/null)"
  echo "data_dir=$DIR/data"
  echo "replica_pids=$(pids_of replica)"
  echo "replica_urls=$(for i in $(seq 1 "$REPLICAS"); do printf '%shttp://127.0.0.1:%s/' "$([ "$i" -gt 1 ] && echo ,)" $((PORT + i)); done)"
  echo "worker_pids=$(pids_of worker)"
  echo "haproxy_pid=$(alive "$DIR/haproxy.pid" && cat "$DIR/haproxy.pid")"
  echo "logs=$DIR"
}

down() {
  local f
  stop_pidfile "$DIR/haproxy.pid"
  for f in "$DIR"/replica-*.pid "$DIR"/worker-*.pid; do
    [ -f "$f" ] && stop_pidfile "$f"
  done
  return 0
}

case "${1:-status}" in
  up) up ;;
  status) status ;;
  down) down ;;
  env) environment ;;
  *) echo "usage: $0 up|status|down|env" >&2; exit 2 ;;
esac
