#!/usr/bin/env python3
"""Checks of the rendered manifests that no schema makes, for things that would only fail
at run time: that the config, the Secret and the manifests fit together, and the API
server's own checks that its OpenAPI schema leaves out.

    lint.py RENDERED_YAML REGION_TOML STRIMZI_SCHEMA_DIR CORE_SRC_DIR

Needs PyYAML (validate.sh runs it in its virtualenv). Prints one line per problem and
exits 1 if there is any. Also names every CEL rule (x-kubernetes-validations) of the custom
resource schemas that kubeconform does not evaluate, and whether the manifests set a field
it guards.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from configkeys import ConfigKeys  # noqa: E402

# Source kinds a token may name (Config::check in services/core/src/config.rs).
TOKEN_KINDS = {"school", "voorschool", "leerplicht", "jeugdhulp"}
NOT_OVERRIDES = {"SCHAKEL_CONFIG", "SCHAKEL_LOG", "SCHAKEL_TOKEN"}
# Secrets never go into region.toml (they come from the Secret).
SECRET_KEYS = [("pseudonym", "secret"), ("vault", "master_key"), ("ingest", "tokens"), ("notify", "email", "password")]
# The services with HTTP health endpoints: binary -> the config table with their `listen`.
SERVICES = {"schakel-ingest": "ingest", "schakel-rules": "rules", "schakel-notify": "notify"}

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|Ki|Mi|Gi|Ti|Pi|Ei)?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")

problems: list[str] = []
KEYS: ConfigKeys


def toml_value(raw: str):
    """An override's value as the loader reads it: TOML if it parses, else the string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def ref(doc) -> str:
    return f"{doc['kind']} {doc['metadata'].get('name', '?')}"


def pod_templates(doc):
    """(where, pod spec, pod labels) of every pod a workload makes."""
    kind, spec = doc["kind"], doc.get("spec", {})
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        t = spec.get("template", {})
        yield ref(doc), t.get("spec", {}), t.get("metadata", {}).get("labels", {})
    elif kind == "CronJob":
        t = spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
        yield ref(doc), t.get("spec", {}), t.get("metadata", {}).get("labels", {})


def check_names(docs) -> None:
    for d in docs:
        name = d["metadata"].get("name", "")
        pattern, maxlen = (DNS_LABEL, 63) if d["kind"] in ("Service", "Namespace") else (DNS_SUBDOMAIN, 253)
        if not pattern.match(name) or len(name) > maxlen:
            problem(ref(d), f"metadata.name {name!r} is not a DNS-1123 name")


def check_quantity(where: str, q) -> None:
    if not QUANTITY.match(str(q)):
        problem(where, f"{q!r} is not a Kubernetes quantity")


def check_pods(docs, by_kind, region) -> None:
    config_maps = {d["metadata"]["name"] for d in by_kind["ConfigMap"]}
    secrets = {d["metadata"]["name"]: d for d in by_kind["Secret"]}
    claims = {d["metadata"]["name"] for d in by_kind["PersistentVolumeClaim"]}
    for d in by_kind["PersistentVolumeClaim"]:
        for k, q in d["spec"].get("resources", {}).get("requests", {}).items():
            check_quantity(f"{ref(d)} requests.{k}", q)
    for doc in docs:
        for where, pod, _labels in pod_templates(doc):
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            for v in volumes.values():
                if "configMap" in v and v["configMap"]["name"] not in config_maps:
                    problem(where, f"volume {v['name']} names ConfigMap {v['configMap']['name']}, which is not in the set")
                if "secret" in v and v["secret"]["secretName"] not in secrets:
                    problem(where, f"volume {v['name']} names Secret {v['secret']['secretName']}, which is not in the set")
                if "persistentVolumeClaim" in v and v["persistentVolumeClaim"]["claimName"] not in claims:
                    problem(where, f"volume {v['name']} names claim {v['persistentVolumeClaim']['claimName']}, which is not in the set")
                if "emptyDir" in v and "sizeLimit" in (v["emptyDir"] or {}):
                    check_quantity(f"{where} volume {v['name']} sizeLimit", v["emptyDir"]["sizeLimit"])
            pod_sc = pod.get("securityContext", {})
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                cw = f"{where} container {c['name']}"
                env = {e["name"]: e for e in c.get("env", [])}
                for name, e in env.items():
                    if not ENV_NAME.match(name):
                        problem(cw, f"env name {name!r} is not valid")
                    ref_ = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref_:
                        s = secrets.get(ref_["name"])
                        if s is None:
                            problem(cw, f"env {name} names Secret {ref_['name']}, which is not in the set")
                        elif ref_["key"] not in {**s.get("data", {}), **s.get("stringData", {})}:
                            problem(cw, f"env {name} names key {ref_['key']}, which Secret {ref_['name']} lacks")
                    if name.startswith("SCHAKEL_") and name not in NOT_OVERRIDES:
                        raw = e.get("value")
                        if raw is None and ref_ and ref_["name"] in secrets:
                            raw = secrets[ref_["name"]].get("stringData", {}).get(ref_["key"], "")
                        for p in KEYS.check_override(name, toml_value(raw or "")):
                            problem(cw, p)
                if "SCHAKEL_CONFIG" in env:
                    # Service links would add SCHAKEL_<SERVICE>_SERVICE_HOST and friends, which
                    # the config loader reads as overrides and refuses as unknown keys.
                    if pod.get("enableServiceLinks", True) is not False:
                        problem(where, "loads the Schakel config but does not set enableServiceLinks: false")
                    if env["SCHAKEL_CONFIG"].get("value") != "/etc/schakel/region.toml":
                        problem(cw, "SCHAKEL_CONFIG is not /etc/schakel/region.toml")
                    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
                    m = mounts.get("/etc/schakel")
                    if m is None or "configMap" not in volumes.get(m["name"], {}):
                        problem(cw, "does not mount the region ConfigMap at /etc/schakel")
                    for path in ("/var/lib/schakel/vault",):
                        if c.get("command", [""])[0] in ("schakel-ingest",) and path not in mounts:
                            problem(cw, f"has no volume at vault.key_dir {path}")
                sc = c.get("securityContext", {})
                if not (sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True):
                    problem(cw, "does not set runAsNonRoot: true")
                if sc.get("allowPrivilegeEscalation") is not False:
                    problem(cw, "does not set allowPrivilegeEscalation: false")
                if sc.get("readOnlyRootFilesystem") is not True:
                    problem(cw, "does not set readOnlyRootFilesystem: true")
                if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                    problem(cw, "does not drop ALL capabilities")
                res = c.get("resources", {})
                for part in ("requests", "limits"):
                    for k in ("cpu", "memory"):
                        if k not in res.get(part, {}):
                            problem(cw, f"has no resources.{part}.{k}")
                        else:
                            check_quantity(f"{cw} resources.{part}.{k}", res[part][k])
                check_service_container(doc, cw, c, region)


def check_service_container(doc, where, c, region) -> None:
    binary = (c.get("command") or [""])[0]
    table = SERVICES.get(binary)
    if table is None:
        return
    if doc["kind"] == "Deployment" and doc["spec"].get("replicas", 1) < 2:
        problem(ref(doc), f"{binary} runs {doc['spec'].get('replicas', 1)} replica; production runs at least 2")
    listen = region.get(table, {}).get("listen", "")
    host, _, port = listen.rpartition(":")
    if host not in ("0.0.0.0", "[::]"):
        problem("region.toml", f"{table}.listen {listen!r} is not reachable from outside the pod")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    if not port.isdigit() or int(port) not in ports.values():
        problem(where, f"no containerPort for {table}.listen {listen!r}")
    for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet")
        if get is None or get.get("path") != path:
            problem(where, f"{probe} is not GET {path}")
            continue
        p = get.get("port")
        number = ports.get(p) if isinstance(p, str) else p
        if str(number) != port:
            problem(where, f"{probe} port {p!r} is not {table}.listen's port {port}")


def check_services(by_kind) -> None:
    pods = [(where, pod, labels) for d in by_kind["Deployment"] for where, pod, labels in pod_templates(d)]
    for s in by_kind["Service"]:
        sel = s["spec"].get("selector", {})
        matched = [(w, pod) for w, pod, labels in pods if sel and all(labels.get(k) == v for k, v in sel.items())]
        if not matched:
            problem(ref(s), f"selector {sel} matches no pod template")
        for port in s["spec"].get("ports", []):
            tp = port.get("targetPort", port["port"])
            for w, pod in matched:
                names = {p.get("name") for c in pod["containers"] for p in c.get("ports", [])}
                numbers = {p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])}
                if (isinstance(tp, str) and tp not in names) or (isinstance(tp, int) and tp not in numbers):
                    problem(ref(s), f"targetPort {tp!r} is no port of {w}")
    for d in by_kind["Deployment"]:
        sel = d["spec"]["selector"].get("matchLabels", {})
        labels = d["spec"]["template"]["metadata"].get("labels", {})
        if any(labels.get(k) != v for k, v in sel.items()):
            problem(ref(d), "spec.selector does not match the pod template's labels")
    for p in by_kind["PodDisruptionBudget"]:
        sel = p["spec"]["selector"].get("matchLabels", {})
        if not any(all(labels.get(k) == v for k, v in sel.items()) for _w, _p, labels in pods):
            problem(ref(p), f"selector {sel} matches no pod template")


def check_kafka(by_kind, region) -> None:
    clusters = {d["metadata"]["name"]: d for d in by_kind["Kafka"]}
    if len(clusters) != 1:
        problem("Kafka", f"expected one Kafka cluster, found {len(clusters)}")
        return
    (name, kafka), = clusters.items()
    spec = kafka["spec"]["kafka"]
    config = spec.get("config", {})
    if config.get("auto.create.topics.enable") not in (False, "false"):
        problem(ref(kafka), "auto.create.topics.enable is not false")
    brokers = 0
    for pool in by_kind["KafkaNodePool"]:
        if pool["metadata"].get("labels", {}).get("strimzi.io/cluster") != name:
            problem(ref(pool), f"label strimzi.io/cluster is not {name}")
        elif "broker" in pool["spec"]["roles"]:
            brokers += pool["spec"]["replicas"]
        for v in pool["spec"]["storage"].get("volumes", [pool["spec"]["storage"]]):
            if "size" in v:
                check_quantity(f"{ref(pool)} storage size", v["size"])
    min_isr = int(config.get("min.insync.replicas", 1))
    for t in by_kind["KafkaTopic"]:
        if t["metadata"].get("labels", {}).get("strimzi.io/cluster") != name:
            problem(ref(t), f"label strimzi.io/cluster is not {name}")
        replicas = t["spec"].get("replicas", config.get("default.replication.factor", 1))
        if replicas > brokers:
            problem(ref(t), f"{replicas} replicas but the cluster has {brokers} brokers")
        if replicas <= min_isr:
            problem(ref(t), f"{replicas} replicas with min.insync.replicas={min_isr}: losing one broker stops writes")
    plain = [l for l in spec.get("listeners", []) if l["type"] == "internal" and not l["tls"]]
    want = {f"{name}-kafka-bootstrap:{l['port']}" for l in plain}
    boot = region.get("kafka", {}).get("bootstrap")
    if boot not in want:
        problem("region.toml", f"kafka.bootstrap {boot!r} is none of the plain bootstrap addresses {sorted(want)}")
    if region.get("kafka", {}).get("topic_prefix", "") != "":
        problem("region.toml", "kafka.topic_prefix is not empty, but topics.yaml creates unprefixed topics")


def check_region(region) -> None:
    for p in KEYS.check_file(region):
        problem("region.toml", p)
    for path in SECRET_KEYS:
        node = region
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            problem("region.toml", f"{'.'.join(path)} is a secret: give it in the Secret, not here")


def check_secret_values(by_kind) -> list[str]:
    placeholders = []
    for s in by_kind["Secret"]:
        values = {**s.get("stringData", {})}
        for k, v in values.items():
            if "REPLACE-ME" in str(v):
                placeholders.append(f"{ref(s)} {k}")
            if not k.startswith("SCHAKEL_"):
                continue
            value = toml_value(str(v))
            for p in KEYS.check_override(k, value):
                problem(ref(s), p)
            if k == "SCHAKEL_INGEST__TOKENS":
                if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
                    problem(ref(s), f"{k} is not a TOML array of inline tables")
                    continue
                for i, t in enumerate(value):
                    if not {"name", "token"} <= set(t):
                        problem(ref(s), f"{k}[{i}] lacks name or token")
                    if set(t.get("kinds", [])) - TOKEN_KINDS:
                        problem(ref(s), f"{k}[{i}] has unknown kinds {sorted(set(t.get('kinds', [])) - TOKEN_KINDS)}")
    return placeholders


def cel_rules(docs, schema_dir: Path) -> list[str]:
    """What the CEL rules of the custom resources' schemas guard, and whether it is used."""
    lines = []
    for d in docs:
        group, _, version = d["apiVersion"].rpartition("/")
        f = schema_dir / group / f"{d['kind'].lower()}_{version}.cel.json"
        if not group or not f.exists():
            continue
        for rule in json.loads(f.read_text()):
            where = ".".join(rule["path"]) or "(root)"
            state = "SET, check it by hand" if is_set(d, rule["path"]) else "not set"
            lines.append(f"{ref(d)}: {where} ({state}): {rule['rule']}")
    return lines


def is_set(node, path) -> bool:
    """Whether the manifest has a value at a schema path ("[]": any list item, "*": any map value)."""
    if not path:
        return True
    key, rest = path[0], path[1:]
    if key == "[]":
        return isinstance(node, list) and any(is_set(x, rest) for x in node)
    if key == "*":  # any value of a map
        return isinstance(node, dict) and any(is_set(x, rest) for x in node.values())
    return isinstance(node, dict) and key in node and is_set(node[key], rest)


def main(argv: list[str]) -> int:
    global KEYS
    rendered, region_file, strimzi_dir = Path(argv[0]), Path(argv[1]), Path(argv[2])
    KEYS = ConfigKeys(Path(argv[3]))
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    region = tomllib.loads(region_file.read_text())
    by_kind: dict[str, list] = {k: [] for k in ("ConfigMap", "Secret", "PersistentVolumeClaim", "Deployment",
                                                "Service", "PodDisruptionBudget", "Kafka", "KafkaNodePool", "KafkaTopic")}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    check_names(docs)
    check_region(region)
    check_pods(docs, by_kind, region)
    check_services(by_kind)
    check_kafka(by_kind, region)
    placeholders = check_secret_values(by_kind)
    cel = cel_rules(docs, strimzi_dir)
    kinds = Counter(d["kind"] for d in docs)
    print(f"lint: {len(docs)} resources ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
          f"region.toml and the overrides against the {len(KEYS.structs)} config structs of {argv[3]}")
    for line in cel:
        # kubeconform evaluates no CEL; a rule over a field the manifests leave out cannot fail
        print(f"  NOT VALIDATED (CEL rule of the CRD, evaluated only by the API server): {line}")
    for p in placeholders:
        print(f"  placeholder, replace before applying: {p}")
    for p in problems:
        print(f"  PROBLEM {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
