# Shell functions the service scripts share (sourced by scripts/seaweedfs.sh and
# scripts/cluster.sh; not run on its own).

# the HTTP status of an anonymous request, 0 if nothing answered (python3: curl may not be
# installed):  http_status GET http://127.0.0.1:58333/
http_status() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(urllib.request.Request(sys.argv[2], method=sys.argv[1]), timeout=2).status)
except urllib.error.HTTPError as error:
    print(error.code)
except OSError:
    print(0)
PY
}

# stop the process a pid file names (TERM, then KILL after 10 s) and remove the file
stop_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# succeed when nothing on this machine holds TCP port $1 on 127.0.0.1
port_free() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.socket() as probe:
    probe.bind(("127.0.0.1", int(sys.argv[1])))
PY
}
