#!/usr/bin/env bash
# Runs Arize Phoenix locally as a trace viewer with web pages for Schakel: an OTLP receiver
# that keeps spans in a SQLite file and shows them in its web UI.
#
#   infra/traces/phoenix.sh         # runs in the foreground; Ctrl-C stops it (traces are kept)
#
# then, in another terminal:
#   SCHAKEL_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:6006 make up
# (or `[telemetry] otlp_endpoint = "http://127.0.0.1:6006"` in the region config), post a fact
# with a traceparent header and open the trace's page:
#   http://127.0.0.1:6006/redirects/traces/<trace id>
# (it forwards to /projects/<project id>/traces/<trace id>), or browse http://127.0.0.1:6006.
#
# Where to look:
# - Phoenix groups traces into projects by the resource attribute openinference.project.name,
#   not by service.name, so every Schakel service lands in the project "default". To give them
#   a project of their own, start Schakel with
#   OTEL_RESOURCE_ATTRIBUTES=openinference.project.name=schakel.
# - A request that carried a traceparent has its first span's parent in the caller, which
#   Phoenix never receives. The project's Traces tab lists such traces; its Spans tab shows
#   only spans without a parent by default (filter `parent_id is None`): use the filter
#   `parent_span is None` there to see them too.
# - Phoenix shows its own span kinds (LLM, TOOL, ...); Schakel's spans show as "unknown".
#
# Listens on 127.0.0.1 only: 6006 (web UI, its REST and GraphQL API, and OTLP/HTTP at
# /v1/traces) and 4317 (OTLP/gRPC). No login is asked (Phoenix's authentication is off),
# which is why it stays on the loopback address. Traces are kept in a SQLite database in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/schakel/phoenix
# across runs; delete that folder (with Phoenix stopped) to start empty.
#
# The first run installs Arize Phoenix from PyPI (needs python3 3.11 to 3.14 with the venv
# module; about a minute, and about 860 MB) into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/schakel/phoenix-venv
# and later runs reuse it. Delete that folder to reinstall.
#
# Environment:
#   SCHAKEL_PHOENIX_PORT        port of the web UI and OTLP/HTTP receiver (default 6006)
#   SCHAKEL_PHOENIX_GRPC_PORT   port of the OTLP/gRPC receiver (default 4317)
#
# Phoenix's usage analytics are switched off and it makes no internet requests of its own
# (web fonts, its documentation server), so nothing leaves this machine.
set -euo pipefail

PHOENIX_VERSION=20.26.1

cache="${XDG_CACHE_HOME:-$HOME/.cache}/schakel"
venv="$cache/phoenix-venv"
marker="$venv/.schakel-phoenix-$PHOENIX_VERSION"
data="$cache/phoenix"
port="${SCHAKEL_PHOENIX_PORT:-6006}"
grpc_port="${SCHAKEL_PHOENIX_GRPC_PORT:-4317}"

die() {
  echo "phoenix.sh: $*" >&2
  exit 1
}

for p in "$port" "$grpc_port"; do
  case "$p" in '' | *[!0-9]* | 0) die "ports must be numbers from 1, not '$p'" ;; esac
done
[ "$port" != "$grpc_port" ] || die "SCHAKEL_PHOENIX_PORT and SCHAKEL_PHOENIX_GRPC_PORT must differ"

install_phoenix() {
  command -v python3 >/dev/null 2>&1 || die "installing Phoenix needs python3, and it was not found"
  # arize-phoenix 20.26.1 declares Requires-Python >=3.11,<3.15.
  if ! python3 -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 15)))'; then
    die "Phoenix $PHOENIX_VERSION needs python3 3.11 to 3.14; python3 here is $(python3 -V 2>&1)"
  fi
  # Debian and Ubuntu ship the venv module (and the pip it bootstraps) in a separate package.
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    die "python3 has no working venv module (on Debian/Ubuntu: apt-get install python3-venv,
or python3.X-venv for your python3 version), which is needed to install Phoenix"
  fi
  echo "installing Arize Phoenix $PHOENIX_VERSION from PyPI into $venv (once; a minute or two)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  if ! python3 -m venv "$venv"; then
    rm -rf "$venv"
    die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "arize-phoenix==$PHOENIX_VERSION"; then
    rm -rf "$venv"
    die "installing arize-phoenix==$PHOENIX_VERSION from PyPI failed (see the pip output above)"
  fi
  touch "$marker"
  echo "installed Phoenix $PHOENIX_VERSION ($(du -sh "$venv" | cut -f1))" >&2
}

if [ ! -f "$marker" ] || [ ! -x "$venv/bin/phoenix" ]; then
  install_phoenix
fi

# Refuse to start when a port is taken, with a clearer message than Phoenix's own.
for p in "$port" "$grpc_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "something already listens on 127.0.0.1:$p (another Phoenix, Jaeger or collector?); stop it first"
  fi
done

mkdir -p "$data"
# PHOENIX_HOST: the web UI and OTLP/HTTP on loopback only (Phoenix's default is every interface).
# PHOENIX_WORKING_DIR: the SQLite database (phoenix.db) and exports stay in our cache folder.
# PHOENIX_TELEMETRY_ENABLED=false: no usage analytics (FullStory, Scarf pixel) in the web UI.
# PHOENIX_ALLOW_EXTERNAL_RESOURCES=false: Phoenix makes no internet requests of its own (web
# fonts, telemetry, its documentation MCP server, a sandbox download).
# PHOENIX_DISABLE_AGENT_ASSISTANT=true, PHOENIX_AGENTS_DISABLE_BASH=true: no LLM chat assistant
# (it would need a provider key) and no server-side shell tool for it.
# PHOENIX_ENABLE_PROMETHEUS=false: no metrics port (9090) is opened.
# PHOENIX_LOG_MIGRATIONS=false: the first run does not print every SQL statement that creates
# the database; PYTHONWARNINGS=ignore: no SQLAlchemy and pydantic warnings at every start.
# Variables of a Phoenix client or of a database elsewhere are dropped, so that the calling
# shell cannot redirect the store or switch on authentication.
export PHOENIX_HOST=127.0.0.1
export PHOENIX_PORT="$port"
export PHOENIX_GRPC_PORT="$grpc_port"
export PHOENIX_WORKING_DIR="$data"
export PHOENIX_TELEMETRY_ENABLED=false
export PHOENIX_ALLOW_EXTERNAL_RESOURCES=false
export PHOENIX_DISABLE_AGENT_ASSISTANT=true
export PHOENIX_AGENTS_DISABLE_BASH=true
export PHOENIX_ENABLE_PROMETHEUS=false
export PHOENIX_LOG_MIGRATIONS=false
export PYTHONWARNINGS=ignore
unset PHOENIX_COLLECTOR_ENDPOINT PHOENIX_SQL_DATABASE_URL PHOENIX_POSTGRES_HOST \
  PHOENIX_ENABLE_AUTH OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT

# This is `phoenix serve` (the same entry point as $venv/bin/phoenix) with one change: Phoenix
# binds its OTLP/gRPC receiver to [::] (every interface) whatever PHOENIX_HOST says, and has no
# setting for it, so the gRPC server's add_insecure_port is wrapped to bind 127.0.0.1 instead.
# The check fails loudly if a Phoenix release no longer binds the way this expects.
launcher='
import sys
import grpc.aio._server as grpc_server

bind_all = grpc_server.Server.add_insecure_port

def add_insecure_port(self, address):
    if not address.startswith("[::]:"):
        raise SystemExit(f"phoenix.sh: unexpected gRPC address {address!r}; not starting")
    return bind_all(self, "127.0.0.1:" + address[len("[::]:"):])

grpc_server.Server.add_insecure_port = add_insecure_port
from phoenix.server.main import main
sys.argv = ["phoenix", "serve"]
sys.exit(main())
'

# Phoenix runs as a child so that the line below can be printed once it answers, after its
# start-up log; this script stays in the foreground and passes Ctrl-C / TERM on to it.
"$venv/bin/python" -c "$launcher" &
phoenix_pid=$!
trap 'kill -TERM "$phoenix_pid" 2>/dev/null || true' INT TERM HUP
for _ in $(seq 1 600); do
  kill -0 "$phoenix_pid" 2>/dev/null || break
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$grpc_port") 2>/dev/null; then
    echo "Phoenix $PHOENIX_VERSION is up: run Schakel with SCHAKEL_TELEMETRY__OTLP_ENDPOINT=http://127.0.0.1:$port make up (or [telemetry] otlp_endpoint = \"http://127.0.0.1:$port\" in the region config) and open http://127.0.0.1:$port/redirects/traces/TRACE_ID for a trace (or browse http://127.0.0.1:$port, project default, tab Traces; pid $phoenix_pid; Ctrl-C stops it, the traces stay in $data)" >&2
    break
  fi
  sleep 0.2
done
# wait returns early when a trapped signal arrives; keep waiting until Phoenix has shut down.
status=0
while :; do
  wait "$phoenix_pid" && status=0 || status=$?
  kill -0 "$phoenix_pid" 2>/dev/null || break
done
exit "$status"
