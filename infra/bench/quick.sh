#!/usr/bin/env bash
# `make bench-quick`: every benchmark at a small size on the debug build, against one
# throw-away broker, so that none of them can rot unnoticed (CI runs it). It checks no target:
# the figures of a debug build on a small region say nothing about speed. JSON figures go to
# .run/bench/quick/.
#   infra/bench/quick.sh BIN_DIR
set -euo pipefail
bin="$1"
out="$(pwd)/.run/bench/quick"
mkdir -p "$out"
# run NAME BINARY ARGS...: figures to NAME.json, output to NAME.log
run() {
  local name="$1" binary="$2"; shift 2
  local started=$SECONDS
  echo "bench-quick: $name ($binary $*)"
  "$bin/$binary" "$@" --out "$out/$name.json" >"$out/$name.log" 2>&1 || {
    tail -40 "$out/$name.log"; echo "bench-quick: $name failed" >&2; exit 1; }
  echo "bench-quick: $name done in $((SECONDS - started)) s"
}
run codec bench-codec --repeat 200 --rounds 1
run broker bench-broker --records 5000
run rules bench-rules --children 2000 --memory-children 5000
run whatif bench-rules --whatif-only --memory-children 5000 --rounds 1
run monitor bench-monitor --children 5000 --open 1000 --pages 100 --dashboard-runs 1
run trace bench-trace --events 1000 --ticks 3 --rounds 1
run ingest bench-ingest --events 1000 --rows 2000
run notify bench-notify --signals 50
echo "bench-quick: every benchmark ran; figures in $out"
