#!/usr/bin/env bash
# Tests a running Schakel service against its OpenAPI document with schemathesis: generated
# requests (the document's examples, boundary cases, then fuzzing) to every operation, and every
# response must be documented (status code, content type, required headers, body schema) and
# none may be a 5xx.
#
#   infra/contracts/schemathesis.sh BASE_URL OPENAPI_FILE [extra schemathesis run args...]
#   e.g. SCHAKEL_TOKEN=demo-leerplein-token \
#          infra/contracts/schemathesis.sh http://127.0.0.1:8080 services/ingest/openapi.json
#
# Extra arguments come last and win, e.g. `--phases examples,coverage,fuzzing,stateful` (the
# stateful phase follows the documents' links; it adds about three minutes),
# `--exclude-path /openapi.json`, `--report junit`, or `-H 'Cookie: schakel_sessie=…'`.
#
# Environment:
#   SCHAKEL_TOKEN       sent as `Authorization: Bearer <token>` (ingest: a token of
#                       [[ingest.tokens]]; monitor: a contact token); unset: no credentials
#   ST_MAX_EXAMPLES     test cases per operation and phase (default 200: about a minute per
#                       service on two cores)
#   ST_SEED             the random seed (default 20261205): the same seed, document and
#                       service state give the same requests
#   ST_WORKERS          concurrent workers (default 1)
#   ST_WAIT_READY       seconds to wait for BASE_URL/readyz to answer 200 first (default 60;
#                       0: do not wait)
#   XDG_CACHE_HOME      schemathesis is installed once into
#                       ${XDG_CACHE_HOME:-$HOME/.cache}/schakel/schemathesis-venv
#
# Only BASE_URL is contacted (proxies from the environment are not used; pass --proxy to use
# one); installing schemathesis the first time fetches it from PyPI. The exit code is
# schemathesis's: 0 when every check passed.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance

if [ "$#" -lt 2 ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
base_url="${1%/}"
document="$2"
shift 2
if [ ! -f "$document" ]; then
  echo "schemathesis.sh: no OpenAPI document at $document" >&2
  exit 2
fi

venv="${XDG_CACHE_HOME:-$HOME/.cache}/schakel/schemathesis-venv"
marker="$venv/.schakel-schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -f "$marker" ] || [ ! -x "$venv/bin/st" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv (once)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! { python3 -m venv "$venv" &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "schemathesis==$SCHEMATHESIS_VERSION"; }; then
    rm -rf "$venv"
    echo "schemathesis.sh: installing schemathesis failed" >&2
    exit 2
  fi
  touch "$marker"
fi

wait_ready="${ST_WAIT_READY:-60}"
if [ "$wait_ready" -gt 0 ]; then
  # /readyz is 503 while the service catches up with the log; a run against a service that is
  # not ready yet would report that as a server error
  if ! "$venv/bin/python" - "$base_url/readyz" "$wait_ready" <<'PY'; then
import sys, time, urllib.error, urllib.request
url, budget = sys.argv[1], float(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + budget
while True:
    try:
        with opener.open(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except (urllib.error.URLError, OSError):
        pass
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.5)
PY
    echo "schemathesis.sh: $base_url/readyz did not answer 200 within ${wait_ready}s; testing anyway" >&2
  fi
fi

args=(
  run "$document"
  --url "$base_url"
  --checks "$CHECKS"
  --phases examples,coverage,fuzzing
  --max-examples "${ST_MAX_EXAMPLES:-200}"
  --seed "${ST_SEED:-20261205}"
  --generation-database none
  --workers "${ST_WORKERS:-1}"
  --max-redirects 0
  --request-timeout 40
)
if [ -n "${SCHAKEL_TOKEN:-}" ]; then
  args+=(-H "Authorization: Bearer $SCHAKEL_TOKEN")
fi

# a configuration of our own: no schemathesis.toml of the working directory or above takes
# part, and no cache (it would replay earlier runs' requests first and write .schemathesis/ into
# the working directory)
config="$(mktemp "${TMPDIR:-/tmp}/schakel-schemathesis.XXXXXX.toml")"
trap 'rm -f "$config"' EXIT
printf '[cache]\nenabled = false\n' >"$config"
status=0
NO_PROXY='*' no_proxy='*' HTTP_PROXY='' HTTPS_PROXY='' http_proxy='' https_proxy='' \
  "$venv/bin/st" --config-file "$config" "${args[@]}" "$@" || status=$?
exit "$status"
