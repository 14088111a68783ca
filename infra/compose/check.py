#!/usr/bin/env python3
"""Checks compose.yaml offline: against the Compose Specification's JSON schema (the file
compose-go, the loader of `docker compose`, validates with), then the references that the
schema cannot see. No Docker engine needed.

    check.py COMPOSE_YAML COMPOSE_SPEC_JSON CORE_SRC_DIR

Needs PyYAML and jsonschema (infra/k8s/validate.sh runs it in its virtualenv). Prints what it
checked; exits 1 on any problem.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "k8s"))
from configkeys import ConfigKeys  # noqa: E402

# Long-running services without a health check, and why.
NO_HEALTHCHECK = {"clock": "serves no HTTP; the restart policy restarts it when it exits"}
NOT_OVERRIDES = {"SCHAKEL_CONFIG", "SCHAKEL_LOG", "SCHAKEL_TOKEN"}
# Go's time.ParseDuration, which compose uses for the `duration` format.
DURATION = re.compile(r"^[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$|^0$")

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


def schema_errors(doc, schema) -> list[str]:
    checker = jsonschema.FormatChecker()
    checker.checks("duration")(lambda v: not isinstance(v, str) or bool(DURATION.match(v)))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=checker)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def env_file_entries(svc) -> list[dict]:
    entries = svc.get("env_file", [])
    if isinstance(entries, (str, dict)):
        entries = [entries]
    return [{"path": e, "required": True} if isinstance(e, str) else e for e in entries]


def check_env_example(where: str, path: Path) -> None:
    """A committed example of a secrets file: config overrides with TOML values."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            problem(f"{path.name}:{n}", "not KEY=VALUE")
            continue
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        if not key.startswith("SCHAKEL_"):
            problem(f"{path.name}:{n}", f"{key} is no config override (SCHAKEL_<TABLE>__<KEY>)")
            continue
        parsed = toml_value(value)
        for p in KEYS.check_override(key, parsed):
            problem(f"{path.name}:{n}", p)
        if key == "SCHAKEL_INGEST__TOKENS":
            for i, t in enumerate(parsed if isinstance(parsed, list) else [None]):
                if not isinstance(t, dict) or not {"name", "token"} <= set(t):
                    problem(f"{path.name}:{n}", f"{key}[{i}] is not a token table (name, token, ...)")


def check_references(doc, base: Path) -> None:
    services = doc.get("services", {})
    volumes = set((doc.get("volumes") or {}).keys())
    networks = set((doc.get("networks") or {}).keys())
    for name, svc in services.items():
        where = f"service {name}"
        deps = svc.get("depends_on", {})
        for dep in deps if isinstance(deps, (list, dict)) else []:
            if dep not in services:
                problem(where, f"depends_on {dep!r}, which is no service")
            elif isinstance(deps, dict) and deps[dep].get("condition") == "service_healthy" \
                    and "healthcheck" not in services[dep]:
                problem(where, f"waits for {dep!r} to be healthy, which has no health check")
        for net in svc.get("networks", []):
            if net not in networks:
                problem(where, f"network {net!r} is not declared")
        for v in svc.get("volumes", []):
            source = (v.split(":")[0] if isinstance(v, str) else v.get("source", ""))
            if source.startswith((".", "/")):
                if not (base / source).exists():
                    problem(where, f"bind mount source {source} does not exist")
            elif source and source not in volumes:
                problem(where, f"volume {source!r} is not declared")
        for e in env_file_entries(svc):
            p = base / e["path"]
            example = p.with_name(p.name + ".example")
            if example.exists():
                check_env_example(where, example)
            elif e.get("required", True) and not p.exists():
                problem(where, f"env_file {e['path']} has neither the file nor {example.name}")
        # durations are strings to the schema; the loader parses them later
        hc = svc.get("healthcheck", {})
        for key, value in [(f"healthcheck.{k}", hc.get(k)) for k in ("interval", "timeout", "start_period", "start_interval")] \
                + [("stop_grace_period", svc.get("stop_grace_period"))]:
            if value is not None and not DURATION.match(str(value)):
                problem(where, f"{key} {value!r} is not a duration such as 10s or 1m30s")
        long_running = svc.get("restart", "no") != "no" and not svc.get("profiles")
        if long_running and "healthcheck" not in svc and name not in NO_HEALTHCHECK:
            problem(where, "has no health check")
        env = svc.get("environment", {})
        for k, v in (env.items() if isinstance(env, dict) else []):
            if k.startswith("SCHAKEL_") and k not in NOT_OVERRIDES:
                for p in KEYS.check_override(k, toml_value(str(v))):
                    problem(where, p)
        boot = env.get("SCHAKEL_KAFKA__BOOTSTRAP") if isinstance(env, dict) else None
        if boot:
            host, _, port = boot.rpartition(":")
            broker = services.get(host)
            adv = (broker or {}).get("environment", {}).get("KAFKA_ADVERTISED_LISTENERS", "")
            if broker is None or f"//{host}:{port}" not in adv:
                problem(where, f"kafka.bootstrap {boot} is no advertised listener of a service")


def main(argv: list[str]) -> int:
    global KEYS
    compose_file, spec_file = Path(argv[0]), Path(argv[1])
    KEYS = ConfigKeys(Path(argv[2]))
    doc = yaml.safe_load(compose_file.read_text())
    schema = json.loads(spec_file.read_text())
    for e in schema_errors(doc, schema):
        problem(f"{compose_file.name} (compose-spec schema)", e)
    if isinstance(doc, dict):
        check_references(doc, compose_file.parent)
    services = sorted((doc or {}).get("services", {}))
    print(f"compose: {compose_file} against {spec_file.name}: {len(services)} services ({', '.join(services)})")
    for name, why in NO_HEALTHCHECK.items():
        if name in services:
            print(f"  no health check for {name}: {why}")
    for p in problems:
        print(f"  PROBLEM {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
