#!/usr/bin/env bash
# Checks that schemas/asyncapi.json is what the sources give and that the official AsyncAPI
# parser finds no error in it. Installs the pinned npm packages (package-lock.json) once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

[ -d infra/contracts/node_modules/@asyncapi/parser ] ||
  npm ci --prefix infra/contracts --no-audit --no-fund --ignore-scripts --loglevel=error

node infra/contracts/asyncapi.mjs check
