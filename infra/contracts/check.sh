#!/usr/bin/env bash
# Checks that schemas/asyncapi.json is what the sources give and that the official AsyncAPI
# parser finds no error in it, and that the OpenAPI documents of ingest and the monitor are
# valid OpenAPI 3.1. Installs the pinned npm packages (package-lock.json) once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

[ -d infra/contracts/node_modules/@asyncapi/parser ] &&
  [ -d infra/contracts/node_modules/@seriousme/openapi-schema-validator ] ||
  npm ci --prefix infra/contracts --no-audit --no-fund --ignore-scripts --loglevel=error

node infra/contracts/asyncapi.mjs check
node infra/contracts/openapi.mjs
