#!/usr/bin/env bash
# Runs Jaeger locally as a trace viewer for Schakel: an OTLP receiver that keeps spans in memory
# and serves them over Jaeger's query API and web address.
#
#   infra/traces/jaeger.sh          # runs in the foreground; Ctrl-C stops it (traces are lost)
#
# then, in another terminal:
#   SCHAKEL_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318 make up
# (or `[telemetry] otlp_endpoint = "http://127.0.0.1:4318"` in the region config) and look at
# the query API (JSON): http://127.0.0.1:16686/api/services,
# http://127.0.0.1:16686/api/traces?service=<name>&lookback=1h,
# http://127.0.0.1:16686/api/traces/<trace id> (see the note on the web UI below).
#
# Listens on 127.0.0.1 only: 4318 (OTLP/HTTP), 4317 (OTLP/gRPC), 16686 (query HTTP: API and
# web page), 16685 (query gRPC). Storage is Jaeger's memory store, nothing is written to disk.
#
# The first run builds Jaeger from the Go module proxy (needs Go 1.24.6 or newer; a few
# minutes; about 1-1.5 GB of Go module and build cache, in the usual Go cache folders) into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/schakel/jaeger/bin/jaeger
# and later runs reuse that binary. Delete that folder to rebuild.
#
# Environment:
#   SCHAKEL_JAEGER_MAX_TRACES   traces kept in memory before the oldest are dropped
#                               (default 20000)
#   SCHAKEL_JAEGER_BUILD_JOBS   packages compiled at once during the build (default 1, so
#                               the machine stays usable; the build is also run under nice)
#   SCHAKEL_JAEGER_LOG_LEVEL    Jaeger's log level: debug, info, warn, error (default info)
#
# Note: a Jaeger built from the module proxy has no web UI assets embedded (they are built
# from a separate JavaScript project), so http://127.0.0.1:16686 shows Jaeger's placeholder
# page; the query API under /api/ works. If you have a built Jaeger UI (its `build` folder),
# set SCHAKEL_JAEGER_UI_ASSETS to that folder and Jaeger serves it at http://127.0.0.1:16686.
set -euo pipefail

JAEGER_VERSION=v1.75.0
JAEGER_MODULE=github.com/jaegertracing/jaeger
# The oldest Go that builds this Jaeger release (the `go` line of its go.mod).
GO_MIN=1.24.6

cache="${XDG_CACHE_HOME:-$HOME/.cache}/schakel/jaeger"
bin="$cache/bin/jaeger"
stamp="$cache/bin/.version"
config="$cache/config.yaml"
max_traces="${SCHAKEL_JAEGER_MAX_TRACES:-20000}"
jobs="${SCHAKEL_JAEGER_BUILD_JOBS:-1}"
log_level="${SCHAKEL_JAEGER_LOG_LEVEL:-info}"
ui_assets="${SCHAKEL_JAEGER_UI_ASSETS:-}"

die() {
  echo "jaeger.sh: $*" >&2
  exit 1
}

case "$max_traces" in '' | *[!0-9]*) die "SCHAKEL_JAEGER_MAX_TRACES must be a number, not '$max_traces'" ;; esac
case "$jobs" in '' | *[!0-9]* | 0) die "SCHAKEL_JAEGER_BUILD_JOBS must be a number from 1, not '$jobs'" ;; esac
if [ -n "$ui_assets" ] && [ ! -f "$ui_assets/index.html" ]; then
  die "SCHAKEL_JAEGER_UI_ASSETS=$ui_assets has no index.html"
fi

# Finds the go command: on PATH, or in the usual install folder when PATH lacks it.
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

build_jaeger() {
  local go_cmd go_version build_dir
  if ! go_cmd="$(find_go)"; then
    die "building Jaeger $JAEGER_VERSION needs the Go toolchain ($GO_MIN or newer), and 'go' was not found.
Install Go from https://go.dev/dl/ (or a package manager whose Go is new enough), put its bin
folder on PATH (e.g. export PATH=\$PATH:/usr/local/go/bin) and run this script again. Go is only
needed for this one-time build."
  fi
  go_version="$("$go_cmd" env GOVERSION)"
  go_version="${go_version#go}"
  go_version="${go_version%%[!0-9.]*}"
  if [ "$(printf '%s\n%s\n' "$GO_MIN" "$go_version" | sort -V | head -n 1)" != "$GO_MIN" ]; then
    die "building Jaeger $JAEGER_VERSION needs Go $GO_MIN or newer; $go_cmd is Go $go_version.
Install a newer Go from https://go.dev/dl/ and put it first on PATH."
  fi

  echo "building Jaeger $JAEGER_VERSION from the Go module proxy (once per machine, a few minutes)" >&2
  build_dir="$cache/build"
  rm -rf "$build_dir" "${cache:?}/bin"
  mkdir -p "$build_dir" "$cache/bin"

  # A throwaway module whose only requirement is Jaeger, recorded as a tool. GOTOOLCHAIN=local:
  # never switch to a downloaded Go; GOWORK=off: no go.work from a parent folder; GOFLAGS
  # replaces the user's own (e.g. -mod=vendor) and sets how many packages compile at once.
  # (set -e does not apply inside a tested subshell, hence the && chain.)
  if ! (
    cd "$build_dir" &&
      export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-p=$jobs" CGO_ENABLED=0 &&
      "$go_cmd" mod init schakel.local/jaeger-build 2>/dev/null &&
      # Jaeger's own go.mod pins this module with a replace directive, which only applies inside
      # Jaeger's module; repeat it so that the build uses the same dependency versions.
      "$go_cmd" mod edit -replace github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0 &&
      "$go_cmd" get -tool "$JAEGER_MODULE/cmd/jaeger@$JAEGER_VERSION" >"$cache/get.log" 2>&1 &&
      rm -f "$cache/get.log" &&
      nice -n 10 "$go_cmd" build -trimpath \
        -ldflags "-s -w -X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_VERSION -X $JAEGER_MODULE/internal/version.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        -o "$bin.tmp" "$JAEGER_MODULE/cmd/jaeger"
  ); then
    # go get's output (hundreds of "downloading"/"added" lines) is kept in a file, removed when
    # go get succeeds; show its end when go get was what failed.
    [ -f "$cache/get.log" ] && tail -n 20 "$cache/get.log" >&2
    rm -rf "$build_dir" "${cache:?}/bin"
    die "building Jaeger $JAEGER_VERSION failed (see the go output above)"
  fi
  mv "$bin.tmp" "$bin"
  echo "$JAEGER_VERSION" >"$stamp"
  rm -rf "$build_dir"
  echo "built $bin ($(du -h "$bin" | cut -f1))" >&2
}

if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$JAEGER_VERSION" ]; then
  build_jaeger
fi

# Refuse to start when a port is taken, with a clearer message than Jaeger's own.
for port in 4317 4318 16685 16686; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "something already listens on 127.0.0.1:$port (another Jaeger or collector?); stop it first"
  fi
done

# Our own minimal configuration, rewritten on every run: OTLP in, memory store, query API and
# web address out, all on the loopback address. (Jaeger's built-in all-in-one default also opens
# Jaeger, Zipkin, sampling, health, metrics and debug ports, and serves the query port on every
# network interface.)
ui_line=""
if [ -n "$ui_assets" ]; then
  ui_line="    ui:
      assets_path: \"$ui_assets\""
fi
mkdir -p "$cache"
cat >"$config" <<EOF
# Written by infra/traces/jaeger.sh on every run; edits here are overwritten.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: $log_level

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: $max_traces
  jaeger_query:
    storage:
      traces: memstore
    # Jaeger would otherwise trace its own queries into the same store.
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:16686
    grpc:
      endpoint: 127.0.0.1:16685
$ui_line

receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
      grpc:
        endpoint: 127.0.0.1:4317

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF

# Jaeger runs as a child so that the line below can be printed once it listens, after its
# start-up log; this script stays in the foreground and passes Ctrl-C / TERM on to it.
if [ -n "$ui_assets" ]; then
  look="http://127.0.0.1:16686"
else
  look="http://127.0.0.1:16686/api/services, /api/traces?service=NAME&lookback=1h and /api/traces/TRACE_ID (JSON; this build has no web UI, see the top of $0)"
fi
"$bin" --config "$config" &
jaeger_pid=$!
trap 'kill -TERM "$jaeger_pid" 2>/dev/null || true' INT TERM HUP
for _ in $(seq 1 300); do
  kill -0 "$jaeger_pid" 2>/dev/null || break
  if (exec 3<>/dev/tcp/127.0.0.1/4318) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/16686) 2>/dev/null; then
    echo "Jaeger $JAEGER_VERSION is up: run Schakel with SCHAKEL_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:4318 make up (or [telemetry] otlp_endpoint = \"http://127.0.0.1:4318\" in the region config) and look at $look (pid $jaeger_pid; Ctrl-C stops it, and the traces are lost)" >&2
    break
  fi
  sleep 0.2
done
# wait returns early when a trapped signal arrives; keep waiting until Jaeger has shut down.
status=0
while :; do
  wait "$jaeger_pid" && status=0 || status=$?
  kill -0 "$jaeger_pid" 2>/dev/null || break
done
exit "$status"
