#!/usr/bin/env bash
# Starts the local single-node Apache Kafka (combined broker and controller, KRaft) of `make up`
# in the background, keeping its data in DIR across restarts, and waits until it serves.
#   infra/kafka/start.sh PORT DIR PIDFILE LOGFILE
# The controller listens on KAFKA_CONTROLLER_PORT (default PORT+1). Everything binds to 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PORT="${1:-9092}"
DIR="${2:-.run/kafka}"
PIDFILE="${3:-.run/kafka.pid}"
LOG="${4:-.run/kafka.log}"
CONTROLLER="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
mkdir -p "$DIR" "$(dirname "$PIDFILE")" "$(dirname "$LOG")"
DIR="$(cd "$DIR" && pwd)"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "broker already running (pid $(cat "$PIDFILE"))" >&2
  exit 0
fi
KAFKA_HOME="$("$here/install.sh")"
if [ ! -f "$DIR/cluster-id" ]; then
  java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 >"$DIR/cluster-id"
fi
"$here/properties.sh" single 1 "$PORT" "$CONTROLLER" "$DIR/data" >"$DIR/server.properties"
echo "starting Apache Kafka on 127.0.0.1:$PORT (data: $DIR/data, log: $LOG)" >&2
: >"$LOG"
nohup "$here/node.sh" "$DIR/server.properties" "$(cat "$DIR/cluster-id")" --standalone >"$LOG" 2>&1 &
echo $! >"$PIDFILE"
for i in $(seq 1 1200); do
  if grep -q 'Kafka Server started' "$LOG" 2>/dev/null; then
    echo "broker up on 127.0.0.1:$PORT after $((i / 10)) s" >&2
    exit 0
  fi
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "the broker exited; the end of $LOG:" >&2
    tail -20 "$LOG" >&2
    exit 1
  fi
  if [ $((i % 100)) = 0 ]; then echo "  waiting for the broker ($((i / 10)) s)" >&2; fi
  sleep 0.1
done
echo "the broker did not start within 120 s; see $LOG" >&2
exit 1
