#!/usr/bin/env bash
# Starts Tansu on 127.0.0.1 with an explicit advertised listener (librdkafka may resolve
# `localhost` to ::1; Tansu listens on IPv4).
#   start.sh <port> <storage-url> <pidfile> <logfile>
# storage: memory://tansu/ for tests, sqlite://<path relative to the working directory> for
# `make up` (survives a restart).
set -euo pipefail
PORT="${1:-9092}"
STORAGE="${2:-memory://tansu/}"
PIDFILE="${3:-.run/tansu.pid}"
LOG="${4:-.run/tansu.log}"
here="$(cd "$(dirname "$0")" && pwd)"
"$here/install.sh"
BIN="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$LOG")"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "broker already running (pid $(cat "$PIDFILE"))" >&2
  exit 0
fi
nohup "$BIN" broker \
  --listener-url "tcp://127.0.0.1:$PORT" \
  --advertised-listener-url "tcp://127.0.0.1:$PORT" \
  --storage-engine "$STORAGE" >"$LOG" 2>&1 &
echo $! >"$PIDFILE"
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "broker up on 127.0.0.1:$PORT ($STORAGE)" >&2
    exit 0
  fi
  sleep 0.1
done
echo "broker did not start; see $LOG" >&2
exit 1
