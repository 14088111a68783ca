"""The keys the region config accepts, read from the Rust structs that define it
(core's `Config` with its common tables, and the structs each service reads its own section
into, `SECTION_TYPES` below; all `deny_unknown_fields`), so
that a manifest or an env file using a key the loader would refuse fails validation, and a
key renamed in the code fails it until the manifests follow. Standard library only.

A value that is a TOML table (or an array of tables) is checked against the struct of its
field; any other value is taken as a leaf (durations, ages and dates are strings parsed by
the code).
"""

from __future__ import annotations

import re
from pathlib import Path

STRUCT = re.compile(r"pub struct (\w+)\s*\{(.*?)\n\}", re.S)
FIELD = re.compile(r"^\s*pub (\w+):\s*(.+?),?\s*$", re.M)
WRAPPER = re.compile(r"^(?:Option|Vec|Box)<(.+)>$")
MAP = re.compile(r"^(?:std::collections::)?(?:BTreeMap|HashMap)<\s*String\s*,\s*(.+)>$")


# The struct each service section is read into (`Config::section`); core's `SECTIONS` must
# name exactly these, so a new section fails validation until it is added here.
SECTION_TYPES = {
    "ingest": "IngestConfig",
    "rules": "RulesConfig",
    "policy": "Policy",
    "notify": "NotifyConfig",
    "monitor": "MonitorConfig",
    "links": "LinksConfig",
    "vault": "VaultConfig",
    "pseudonym": "PseudonymConfig",
}
SECTIONS = re.compile(r"pub const SECTIONS: &\[&str\] = &\[(.*?)\];", re.S)


class ConfigKeys:
    def __init__(self, core_src: Path):
        """`core_src` is services/core/src; every crate under services/ is read."""
        self.structs: dict[str, dict[str, str]] = {}
        renaming: dict[str, Path] = {}
        services = core_src.parent.parent
        declared = None
        for f in sorted(services.glob("*/src/**/*.rs")):
            if (m := SECTIONS.search(f.read_text())):
                declared = set(re.findall(r'"(\w+)"', m.group(1)))
            for m in STRUCT.finditer(f.read_text()):
                body = m.group(2)
                if "serde(flatten" in body or "serde(rename =" in body or "serde(alias" in body:
                    renaming[m.group(1)] = f
                self.structs[m.group(1)] = dict(FIELD.findall(body))
        if "Config" not in self.structs:
            raise SystemExit(f"no struct Config in {services}")
        if declared != set(SECTION_TYPES):
            raise SystemExit(f"core's SECTIONS {sorted(declared or [])} differ from configkeys.py's {sorted(SECTION_TYPES)}")
        self.structs["Config"].update(SECTION_TYPES)
        # only the structs of the config matter; one that renames fields would need more
        # than field names
        todo, seen = ["Config"], set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.structs:
                continue
            seen.add(name)
            if name in renaming:
                raise SystemExit(f"configkeys.py cannot read struct {name} in {renaming[name]}: it renames fields")
            todo += [self._inner(t)[0] for t in self.structs[name].values()]
        self.structs = {k: v for k, v in self.structs.items() if k in seen}

    @staticmethod
    def _inner(ty: str) -> tuple[str, bool]:
        """The element type, and whether the value is a map with free keys."""
        ty = ty.strip()
        while (m := WRAPPER.match(ty)):
            ty = m.group(1).strip()
        if (m := MAP.match(ty)):
            return m.group(1).strip(), True
        return ty, False

    def check_value(self, ty: str, value, where: str) -> list[str]:
        inner, is_map = self._inner(ty)
        if isinstance(value, list):
            return [p for i, v in enumerate(value) for p in self.check_value(inner, v, f"{where}[{i}]")]
        if not isinstance(value, dict):
            return []
        if is_map:
            return [p for k, v in value.items() for p in self.check_value(inner, v, f"{where}.{k}")]
        fields = self.structs.get(inner)
        if fields is None:
            return []  # a type with its own parser
        problems = []
        for k, v in value.items():
            if k not in fields:
                problems.append(f"{where}.{k}".lstrip(".") + f" is no key of the config (struct {inner})")
            else:
                problems += self.check_value(fields[k], v, f"{where}.{k}")
        return problems

    def check_file(self, config: dict) -> list[str]:
        return self.check_value("Config", config, "")

    def check_override(self, var: str, value) -> list[str]:
        """SCHAKEL_<TABLE>__<KEY>=value, as the loader applies it."""
        path = var[len("SCHAKEL_"):].lower().split("__")
        ty = "Config"
        for i, key in enumerate(path):
            inner, is_map = self._inner(ty)
            if is_map:
                ty = inner
                continue
            fields = self.structs.get(inner, {})
            if key not in fields:
                return [f"{var}: {'.'.join(path[: i + 1])} is no key of the config"]
            ty = fields[key]
        return self.check_value(ty, value, ".".join(path))
