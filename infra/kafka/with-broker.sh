#!/usr/bin/env bash
# Runs a command with a throw-away single-node Apache Kafka of its own (fresh data in a temp
# directory, a free port), named in TEST_KAFKA_BOOTSTRAP; the node is killed when the command ends.
# `make test` runs the test suite this way: tests that do not stop the broker share it.
#   infra/kafka/with-broker.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mktemp -d "${TMPDIR:-/tmp}/schakel-test-kafka.XXXXXX")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
export KAFKA_CONTROLLER_PORT="$(free_port)"
stop() {
  if [ -f "$dir/kafka.pid" ]; then kill -9 "$(cat "$dir/kafka.pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap stop EXIT
# the shared broker serves many tests at once: a larger heap than a test's own node
KAFKA_HEAP="-Xmx768m -Xms256m" "$here/start.sh" "$port" "$dir" "$dir/kafka.pid" "$dir/kafka.log"
export TEST_KAFKA_BOOTSTRAP="127.0.0.1:$port"
status=0
"$@" || status=$?
if [ "$status" != 0 ] && [ -f "$dir/kafka.log" ]; then
  echo "── the shared test broker's log ends:" >&2
  tail -30 "$dir/kafka.log" >&2
fi
exit "$status"
