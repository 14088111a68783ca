#!/usr/bin/env bash
# Waits until each started service answers its health check, or says which one stopped and
# why (the last lines of its log). Usage: await-up.sh RUN_DIR name:port...
# A service that runs but does not answer on its port (another config) is reported, not failed.
set -u
run=$1; shift
deadline=$((SECONDS + 60))
status=0
for pair in "$@"; do
  name=${pair%%:*}; port=${pair##*:}
  pid=$(cat "$run/$name.pid" 2>/dev/null || echo 0)
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name stopped at start; the end of .run/$name.log:" >&2
      tail -n 3 "$run/$name.log" | cut -c1-300 >&2
      status=1; break
    fi
    if curl -sf -o /dev/null "http://127.0.0.1:$port/livez"; then
      echo "$name is up (:$port)"; break
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "$name runs but does not answer on :$port (another config?); see .run/$name.log" >&2
      break
    fi
    sleep 0.2
  done
done
exit $status
