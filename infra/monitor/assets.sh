#!/usr/bin/env bash
# Fetches the monitor's pinned browser assets once per machine, outside the clone, and prints
# the cache directory that holds them on stdout:
#   dir=$(infra/monitor/assets.sh)
#   $dir/nlds/components.css  NL Design System components (@utrecht/component-library-css, EUPL-1.2)
#   $dir/nlds/theme.css       the neutral voorbeeld theme (.voorbeeld-theme, EUPL-1.2)
#   $dir/nlds/VERSIONS        the two package versions above
#   $dir/axe/axe.min.js       axe-core (MPL-2.0), injected by the accessibility tests
# The cache defaults to ~/.cache/schakel (SCHAKEL_CACHE overrides it). Each tarball comes from
# the npm registry with `npm pack` (no dependencies, no install scripts) and must match the
# sha512 integrity pinned below, so a changed or corrupted package is refused.
set -euo pipefail

COMPONENTS="@utrecht/component-library-css@9.0.4"
COMPONENTS_SHA="sha512-gVA7D6GfP9/+fzehkYLSBR+0UPUTA97PZmgvTYQE88lPQhHGMlUk8FjmCpLKRsRC9hAYd32JuF/KzG6fmBfjJA=="
THEME="@nl-design-system-unstable/voorbeeld-design-tokens@7.4.1"
THEME_SHA="sha512-GNnapAn2mTIzXRcCvs0JMr4Bf9+ivUJ3zFBJLRT1SYpAYm2xPwptVxIM3k4WLJ0c59E9FfxsEBPJluGuAHUVvg=="
AXE="axe-core@4.14.1"
AXE_SHA="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="

cache="${SCHAKEL_CACHE:-$HOME/.cache/schakel}"
nlds_versions="$(printf '%s\n%s\n' "$COMPONENTS" "$THEME")"

nlds_ready() {
  [ -s "$cache/nlds/components.css" ] && [ -s "$cache/nlds/theme.css" ] \
    && [ "$(cat "$cache/nlds/VERSIONS" 2>/dev/null)" = "$nlds_versions" ]
}
axe_ready() {
  [ -s "$cache/axe/axe.min.js" ] && [ "$(cat "$cache/axe/VERSION" 2>/dev/null)" = "$AXE" ]
}

if nlds_ready && axe_ready; then
  echo "$cache"
  exit 0
fi

command -v npm >/dev/null || { echo "npm (Node.js 20 or newer) is needed to fetch the monitor's assets" >&2; exit 1; }
mkdir -p "$cache"
# one fetch at a time per machine (parallel test runs); the second finds the files in place
exec 9>"$cache/.monitor-assets.lock"
flock 9
work="$(mktemp -d "$cache/.monitor-assets.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# fetch SPEC PINNED: packs SPEC into its own directory under $work, checks the tarball against
# PINNED and prints the tarball's path (call it as an assignment, so a failure stops the script)
fetch() {
  local spec="$1" pinned="$2" into actual
  into="$(mktemp -d "$work/pack.XXXXXX")"
  echo "fetching $spec from the npm registry" >&2
  (cd "$into" && npm pack --silent --ignore-scripts "$spec" >/dev/null)
  local tgz=("$into"/*.tgz)
  actual="sha512-$(node -e 'const f = require("fs").readFileSync(process.argv[1]);
    process.stdout.write(require("crypto").createHash("sha512").update(f).digest("base64"))' "${tgz[0]}")"
  if [ "$actual" != "$pinned" ]; then
    echo "$spec: integrity $actual does not match the pinned $pinned" >&2
    exit 1
  fi
  echo "verified $spec ($pinned)" >&2
  echo "${tgz[0]}"
}

# extract TARBALL MEMBER DEST: writes one file of a package tarball to DEST atomically
extract() {
  tar -xzOf "$1" "package/$2" >"$3.tmp"
  [ -s "$3.tmp" ] || { echo "package/$2 is missing or empty in $(basename "$1")" >&2; exit 1; }
  mv -f "$3.tmp" "$3"
}

if ! nlds_ready; then
  mkdir -p "$cache/nlds"
  rm -f "$cache/nlds/VERSIONS"
  tgz="$(fetch "$COMPONENTS" "$COMPONENTS_SHA")"
  extract "$tgz" dist/index.css "$cache/nlds/components.css"
  tgz="$(fetch "$THEME" "$THEME_SHA")"
  extract "$tgz" dist/theme.css "$cache/nlds/theme.css"
  printf '%s\n' "$nlds_versions" >"$cache/nlds/VERSIONS"
  echo "NL Design System CSS ready in $cache/nlds" >&2
fi
if ! axe_ready; then
  mkdir -p "$cache/axe"
  rm -f "$cache/axe/VERSION"
  tgz="$(fetch "$AXE" "$AXE_SHA")"
  extract "$tgz" axe.min.js "$cache/axe/axe.min.js"
  echo "$AXE" >"$cache/axe/VERSION"
  echo "axe-core ready in $cache/axe" >&2
fi
echo "$cache"
