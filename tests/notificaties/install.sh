#!/usr/bin/env bash
# Creates (once) the venv of the Open Notificaties test receiver and installs
# requirements.txt into it. Prints the venv's python as its last line, e.g.
#   PY=$(tests/notificaties/install.sh | tail -n1)
#   "$PY" tests/notificaties/receiver.py --client-id schakel --secret s3cret --port 0
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/schakel/notificaties-venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating venv for the notificaties receiver in $venv" >&2
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv"; then
        rm -rf "$venv"
        echo "python3 -m venv failed; on Debian install the python3-venv package" >&2
        exit 1
    fi
fi

if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "installing notificaties receiver requirements into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi

echo "$venv/bin/python"
