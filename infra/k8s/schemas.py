#!/usr/bin/env python3
"""Turns published API descriptions into the JSON schemas kubeconform reads from disk.

    schemas.py kubernetes SPEC_V3_DIR OUT_DIR   # api/openapi-spec/v3 of k8s.io/kubernetes
    schemas.py crd OBJECTMETA_JSON OUT_DIR CRD_JSON...   # CustomResourceDefinitions (JSON)

Kubernetes kinds are written as OUT_DIR/<kind><suffix>.json with kubeconform's suffix
(`deployment-apps-v1.json`, `service-v1.json`); custom resources as
OUT_DIR/<group>/<kind>_<version>.json (`kafka.strimzi.io/kafka_v1.json`). Kind names are
lower case, as kubeconform looks them up.

Every schema is made strict, the way the API server treats a request with field validation
`Strict` (kubectl's default): an object schema that lists its properties gets
`additionalProperties: false`, unless it says `x-kubernetes-preserve-unknown-fields`. The
OpenAPI-only spellings are turned into JSON Schema: `nullable`, `x-kubernetes-int-or-string`,
`#/components/schemas/` references. The metadata of a custom resource is checked against the
real ObjectMeta schema (a CRD only says `type: object` there). Standard library only.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

DRAFT4 = "http://json-schema.org/draft-04/schema#"
K8S_REF = "#/components/schemas/"
OBJECTMETA = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def jsonschema_of(node, ref_prefix: str | None = None):
    """An OpenAPI v3 schema as a strict draft-4 JSON schema (a new object)."""
    if isinstance(node, list):
        return [jsonschema_of(x, ref_prefix) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and ref_prefix is not None and isinstance(value, str):
            if not value.startswith(K8S_REF):
                raise SystemExit(f"unexpected reference {value}")
            out[key] = ref_prefix + value[len(K8S_REF):]
        elif key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: jsonschema_of(v, ref_prefix) for k, v in value.items()}
        elif key in ("example", "default", "enum", "required", "x-kubernetes-list-map-keys"):
            out[key] = copy.deepcopy(value)
        elif key in ("description", "discriminator"):
            continue  # no bearing on validity; keeps the files small
        else:
            out[key] = jsonschema_of(value, ref_prefix)
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"] + ["null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    preserve = out.get("x-kubernetes-preserve-unknown-fields") is True
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def reachable(schemas: dict, root: str) -> list[str]:
    """The names of the component schemas that `root` refers to, directly or not."""
    seen, todo = [], [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)

        def walk(n):
            if isinstance(n, dict):
                ref = n.get("$ref")
                if isinstance(ref, str) and ref.startswith(K8S_REF):
                    todo.append(ref[len(K8S_REF):])
                for v in n.values():
                    walk(v)
            elif isinstance(n, list):
                for v in n:
                    walk(v)

        walk(schemas[name])
    return sorted(seen)


def kind_suffix(group: str, version: str) -> str:
    """kubeconform's file name suffix: `-apps-v1` for apps/v1, `-v1` for the core group."""
    return f"-{group.split('.')[0]}-{version}" if group else f"-{version}"


def standalone(schemas: dict, root: str) -> dict:
    """One file: the root schema, plus every schema it needs under `definitions`."""
    doc = {"$schema": DRAFT4}
    doc.update(jsonschema_of(schemas[root], "#/definitions/"))
    doc["definitions"] = {n: jsonschema_of(schemas[n], "#/definitions/") for n in reachable(schemas, root) if n != root}
    if not doc["definitions"]:
        del doc["definitions"]
    return doc


def write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")))


def kubernetes(spec_dir: Path, out: Path) -> None:
    count = 0
    objectmeta = None
    for f in sorted(spec_dir.glob("api*__v*_openapi.json")):
        # api__v1_openapi.json, apis__apps__v1_openapi.json: one group version per file
        parts = f.name[: -len("_openapi.json")].split("__")
        group = "" if parts[0] == "api" else parts[1]
        version = parts[-1]
        schemas = json.loads(f.read_text())["components"]["schemas"]
        if objectmeta is None and OBJECTMETA in schemas:
            objectmeta = standalone(schemas, OBJECTMETA)
        for name, s in schemas.items():
            for gvk in s.get("x-kubernetes-group-version-kind", []):
                if gvk["group"] != group or gvk["version"] != version:
                    continue  # a shared type (DeleteOptions, WatchEvent) listed for every group
                doc = standalone(schemas, name)
                write(out / f"{gvk['kind'].lower()}{kind_suffix(group, version)}.json", doc)
                count += 1
    if count == 0 or objectmeta is None:
        raise SystemExit(f"no kinds found in {spec_dir}")
    write(out / "_objectmeta.json", objectmeta)
    print(f"kubernetes: {count} kind schemas in {out}")


def cel_rules(node, path: list[str]) -> list[dict]:
    """Every x-kubernetes-validations rule with the property path it sits at."""
    found = [{"path": path, "rule": r["rule"], "message": r.get("message", "")}
             for r in node.get("x-kubernetes-validations", [])]
    for name, sub in node.get("properties", {}).items():
        found += cel_rules(sub, path + [name])
    if isinstance(node.get("items"), dict):
        found += cel_rules(node["items"], path + ["[]"])
    if isinstance(node.get("additionalProperties"), dict):
        found += cel_rules(node["additionalProperties"], path + ["*"])
    return found


def crds(objectmeta_file: Path, out: Path, files: list[Path]) -> None:
    objectmeta = json.loads(objectmeta_file.read_text())
    objectmeta.pop("$schema", None)
    count = 0
    for f in files:
        crd = json.loads(f.read_text())
        if crd.get("kind") != "CustomResourceDefinition":
            raise SystemExit(f"{f} is not a CustomResourceDefinition")
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            if not v.get("served", False):
                continue
            doc = {"$schema": DRAFT4}
            doc.update(jsonschema_of(v["schema"]["openAPIV3Schema"]))
            props = doc.setdefault("properties", {})
            meta = copy.deepcopy(objectmeta)
            # ObjectMeta's own references (OwnerReference, ManagedFieldsEntry, ...) move to
            # the root, where its "#/definitions/..." references point
            doc["definitions"] = meta.pop("definitions", {})
            props["metadata"] = meta
            # the CRD fixes these two; kubeconform picks the file by them, say so anyway
            props["apiVersion"] = {"type": "string", "enum": [f"{group}/{v['name']}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            write(out / group / f"{kind.lower()}_{v['name']}.json", doc)
            # kubeconform evaluates no CEL: list the rules, so that validate.sh can say which
            rules = cel_rules(v["schema"]["openAPIV3Schema"], [])
            (out / group / f"{kind.lower()}_{v['name']}.cel.json").write_text(json.dumps(rules, indent=1))
            count += 1
    print(f"custom resources: {count} kind schemas in {out}")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "kubernetes":
        kubernetes(Path(argv[1]), Path(argv[2]))
    elif len(argv) >= 4 and argv[0] == "crd":
        crds(Path(argv[1]), Path(argv[2]), [Path(a) for a in argv[3:]])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
