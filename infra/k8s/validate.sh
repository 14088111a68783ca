#!/usr/bin/env bash
# Validates the production manifests offline, against real schemas:
#   - infra/k8s as `kubectl apply -k infra/k8s` renders it (kustomize), every resource with
#     kubeconform -strict: Kubernetes kinds against the OpenAPI v3 spec of k8s.io/kubernetes,
#     the Strimzi kinds against the CRDs of Strimzi's own generator and API classes;
#   - topics.yaml is what topics.py makes of schemas/topics.toml now;
#   - lint.py: what the config, the Secret and the manifests need from each other, with the
#     config keys read from the Rust structs that define them (configkeys.py);
#   - infra/compose/compose.yaml against the Compose Specification schema (check.py).
#
#   infra/k8s/validate.sh        exit 0 when all is valid, 1 otherwise
#
# Installs what it needs into a cache outside the clone (SCHAKEL_CACHE, default
# ~/.cache/schakel), from the Go module proxy, Maven Central and PyPI only; later runs reuse
# it and need no network. Needs go, mvn, python3 (3.11+) and a Java 21+ runtime.
set -euo pipefail

KUBECONFORM_VERSION=v0.8.0    # github.com/yannh/kubeconform
KUSTOMIZE_VERSION=v5.8.2      # sigs.k8s.io/kustomize/kustomize/v5 (newer ones need Go 1.27)
KUBERNETES_VERSION=1.35.4     # k8s.io/kubernetes: api/openapi-spec/v3
STRIMZI_VERSION=1.2.0         # io.strimzi:api and io.strimzi:crd-generator (Maven Central)
COMPOSE_GO_VERSION=v2.16.2    # github.com/compose-spec/compose-go/v2: schema/compose-spec.json
PYYAML_VERSION=6.0.3
JSONSCHEMA_VERSION=4.26.0
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${SCHAKEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/schakel}
BIN=$CACHE/bin
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
mkdir -p "$BIN" "$CACHE/schemas"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SECONDS=0
FAILED=()

say() { printf '==> %s\n' "$*"; }
die() { printf 'validate.sh: %s\n' "$*" >&2; exit 2; }
need() { command -v "$1" >/dev/null 2>&1 || die "needs $1 ($2)"; }
need go "the Go toolchain, for kubeconform, kustomize and the schemas of the Go module proxy"
need python3 "Python 3.11 or later"
python3 -c 'import sys, tomllib; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || die "needs Python 3.11 or later"

# The schema converter is part of the cache key: a changed schemas.py makes new schemas.
CONVERTER=$(sha256sum "$HERE/schemas.py" | cut -c1-12)
K8S_SCHEMAS=$CACHE/schemas/kubernetes-$KUBERNETES_VERSION-$CONVERTER
STRIMZI_SCHEMAS=$CACHE/schemas/strimzi-$STRIMZI_VERSION-$CONVERTER
COMPOSE_SCHEMA=$CACHE/schemas/compose-spec-$COMPOSE_GO_VERSION.json
VENV=$CACHE/venv-$(python3 -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')

# --- tools -------------------------------------------------------------------------------
go_install() { # BINARY MODULE-PATH VERSION: go install unless that version is there
  local have
  have=$(go version -m "$BIN/$1" 2>/dev/null | awk '$1 == "mod" { print $3 }' || true)
  if [ "$have" != "$3" ]; then
    say "installing $1 $3 (go install, into $BIN)"
    GOBIN=$BIN go install "$2@$3"
  fi
}
go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"

go_module_dir() { # MODULE@VERSION GOMODCACHE: download one module, print its directory
  (cd "$WORK" && GOMODCACHE=$2 go mod download -json "$1") \
    | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["Error"]) if "Error" in d else print(d["Dir"])'
}

if [ ! -f "$K8S_SCHEMAS/.complete" ]; then
  say "Kubernetes $KUBERNETES_VERSION schemas: OpenAPI v3 of k8s.io/kubernetes@v$KUBERNETES_VERSION (Go module proxy)"
  modcache=$CACHE/tmp/gomod-kubernetes
  rm -rf "$modcache" "$K8S_SCHEMAS.tmp"
  dir=$(go_module_dir "k8s.io/kubernetes@v$KUBERNETES_VERSION" "$modcache")
  python3 "$HERE/schemas.py" kubernetes "$dir/api/openapi-spec/v3" "$K8S_SCHEMAS.tmp"
  touch "$K8S_SCHEMAS.tmp/.complete"
  rm -rf "$K8S_SCHEMAS" && mv "$K8S_SCHEMAS.tmp" "$K8S_SCHEMAS"
  rm -rf "$modcache"  # the module is 130 MB unpacked; only the schemas are kept
fi

java_major() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { print $2 }'; }
find_java() { # Strimzi's generator is built for Java 21
  local j v
  for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$j" ] && [ -x "$j" ] || continue
    v=$(java_major "$j")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 21 ]; then echo "$j"; return 0; fi
  done
  return 1
}

if [ ! -f "$STRIMZI_SCHEMAS/.complete" ]; then
  say "Strimzi $STRIMZI_VERSION schemas: its CRD generator run on its API classes (Maven Central)"
  need mvn "Maven, for io.strimzi:api and io.strimzi:crd-generator"
  java=$(find_java) || die "needs a Java 21+ runtime for Strimzi's CRD generator (JAVA_HOME or /usr/lib/jvm)"
  jars=$CACHE/tmp/strimzi-$STRIMZI_VERSION
  rm -rf "$jars" "$STRIMZI_SCHEMAS.tmp" && mkdir -p "$jars/crds"
  for artifact in api crd-generator; do
    (cd "$WORK" && mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:copy" \
      -Dartifact="io.strimzi:$artifact:$STRIMZI_VERSION" -DoutputDirectory="$jars") >"$WORK/mvn.log" 2>&1 \
      || { cat "$WORK/mvn.log"; die "could not fetch io.strimzi:$artifact:$STRIMZI_VERSION from Maven Central"; }
  done
  # The same generator and arguments Strimzi's build uses for its released CRDs (JSON here
  # instead of YAML). All ten kinds, so a resource of any of them can be validated.
  model=io.strimzi.api.kafka.model
  args=()
  for class in kafka.Kafka nodepool.KafkaNodePool topic.KafkaTopic user.KafkaUser connect.KafkaConnect \
               connector.KafkaConnector bridge.KafkaBridge mirrormaker2.KafkaMirrorMaker2 \
               rebalance.KafkaRebalance podset.StrimziPodSet; do
    args+=("$model.$class=$jars/crds/${class#*.}.json")
  done
  "$java" -cp "$jars/api-$STRIMZI_VERSION.jar:$jars/crd-generator-$STRIMZI_VERSION.jar" \
    io.strimzi.crdgenerator.CrdGenerator --crd-api-version v1 --api-versions v1 --storage-version v1 "${args[@]}"
  python3 "$HERE/schemas.py" crd "$K8S_SCHEMAS/_objectmeta.json" "$STRIMZI_SCHEMAS.tmp" "$jars"/crds/*.json
  touch "$STRIMZI_SCHEMAS.tmp/.complete"
  rm -rf "$STRIMZI_SCHEMAS" && mv "$STRIMZI_SCHEMAS.tmp" "$STRIMZI_SCHEMAS"
  rm -rf "$jars"
fi

if [ ! -f "$COMPOSE_SCHEMA" ]; then
  say "Compose Specification schema: compose-go $COMPOSE_GO_VERSION (Go module proxy)"
  dir=$(go_module_dir "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION" "$(go env GOMODCACHE)")
  cp "$dir/schema/compose-spec.json" "$COMPOSE_SCHEMA.tmp" && mv "$COMPOSE_SCHEMA.tmp" "$COMPOSE_SCHEMA"
fi

if ! "$VENV/bin/python" -c "import yaml, jsonschema; assert yaml.__version__ == '$PYYAML_VERSION' and jsonschema.__version__ == '$JSONSCHEMA_VERSION'" 2>/dev/null; then
  say "Python packages: PyYAML $PYYAML_VERSION, jsonschema $JSONSCHEMA_VERSION (PyPI, into $VENV)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pyyaml==$PYYAML_VERSION" "jsonschema==$JSONSCHEMA_VERSION"
fi
setup=$SECONDS

# --- checks ------------------------------------------------------------------------------
say "topics.yaml: up to date with schemas/topics.toml"
if python3 "$HERE/topics.py" --check --toml "$ROOT/schemas/topics.toml" --out "$HERE/topics.yaml"; then
  echo "topics.yaml: $(grep -c '^kind: KafkaTopic' "$HERE/topics.yaml") topics, as topics.py writes them"
else
  FAILED+=("topics.yaml is out of date")
fi

say "kustomize build infra/k8s (what kubectl apply -k applies)"
if "$BIN/kustomize" build "$HERE" >"$WORK/rendered.yaml"; then
  say "kubeconform -strict: Kubernetes $KUBERNETES_VERSION, Strimzi $STRIMZI_VERSION (kafka.strimzi.io/v1)"
  # No -ignore-missing-schemas: a kind without a schema is an error, never skipped.
  set +e
  "$BIN/kubeconform" -strict -verbose -output json -kubernetes-version "$KUBERNETES_VERSION" \
    -schema-location "$K8S_SCHEMAS/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$STRIMZI_SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "$WORK/rendered.yaml" >"$WORK/kubeconform.json"
  rc=$?
  set -e
  python3 - "$WORK/kubeconform.json" "$HERE/kustomization.yaml" <<'PY' || rc=1
import collections, json, sys
results = json.load(open(sys.argv[1]))["resources"]
by_kind = collections.Counter()
bad = []
for r in results:
    if r["status"] == "statusValid":
        by_kind[(r["kind"], r["version"])] += 1
    elif r["status"] == "statusError" and "could not find schema" in r["msg"]:
        bad.append(f"  NO SCHEMA {r['kind']} {r['name']} ({r['version']}): not validated")
    else:
        bad.append(f"  INVALID {r['kind']} {r['name']} ({r['version']}): {r['msg']}")
for (kind, version), n in sorted(by_kind.items()):
    print(f"  valid: {n:3} {kind} ({version})")
print(f"kubeconform: {sum(by_kind.values())} valid, {len(bad)} not, of {len(results)} resources")
for line in bad:
    print(line)
sys.exit(1 if bad or not results else 0)
PY
  [ "$rc" -eq 0 ] || FAILED+=("kubeconform found invalid or unvalidated resources")

  say "lint: the config, the Secret and the manifests together"
  "$VENV/bin/python" "$HERE/lint.py" "$WORK/rendered.yaml" "$HERE/region.toml" "$STRIMZI_SCHEMAS" "$ROOT/services/core/src" \
    || FAILED+=("lint found problems")
else
  FAILED+=("kustomize build failed")
fi

say "compose: infra/compose/compose.yaml"
"$VENV/bin/python" "$ROOT/infra/compose/check.py" "$ROOT/infra/compose/compose.yaml" "$COMPOSE_SCHEMA" "$ROOT/services/core/src" \
  || FAILED+=("compose.yaml has problems")

echo "not validated here: what only a cluster checks (admission, quotas, storage classes, the"
echo "  Strimzi operator's own checks such as forbidden Kafka config keys or supported versions),"
echo "  the CEL rules named above, and a running Docker engine's view of compose.yaml."
echo "time: ${SECONDS}s (of which ${setup}s installing or loading tools and schemas)"
if [ ${#FAILED[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${FAILED[@]}"
  exit 1
fi
echo "OK: infra/k8s and infra/compose are valid"
