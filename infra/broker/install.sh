#!/usr/bin/env bash
# Installs the pinned Tansu broker once per machine, outside the clone (in ~/.cargo/bin),
# and reuses it afterwards. The build takes about 11 minutes on a 2-core machine.
set -euo pipefail
VERSION=0.6.0
BIN="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
  exit 0
fi
if [ -x "$BIN" ] && [ -f "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" ] \
   && grep -q "\"tansu $VERSION " "${CARGO_HOME:-$HOME/.cargo}/.crates.toml"; then
  exit 0
fi
echo "installing tansu $VERSION (about 11 minutes, once per machine)..." >&2
cargo install --locked tansu --version "$VERSION" --features dynostore,libsql
