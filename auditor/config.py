"""Project configuration: ``.auditor.yaml`` or ``[tool.auditor]`` in ``pyproject.toml``.

Validated against ``schemas/config.schema.json`` and against the catalog (rule IDs, parameter
names and parameter types), so a typo is an error that names the key, never silently ignored.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.catalog import SCHEMA_DIR, Rule

CONFIG_NAMES = (".auditor.yaml", ".auditor.yml")
RULE_SETTING_KEYS = ("enabled", "severity")


class ConfigError(Exception):
    """The configuration is invalid; the message says where and how to fix it (exit code 2)."""


@dataclass
class Config:
    source: str | None = None
    exclude: list[str] = field(default_factory=list)
    fail_on: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppress: list[dict[str, Any]] = field(default_factory=list)
    max_file_size: int = 5 * 1024 * 1024
    max_files: int = 100_000
    max_include_depth: int = 10
    parse_timeout: float = 10.0
    jobs: int = 0
    scanners: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # workload name -> app | proxy | other
    helm: dict[str, Any] = field(default_factory=dict)  # {values: [tree paths]}: extra chart renders

    def parameters_for(self, rule: Rule) -> dict[str, Any]:
        merged = rule.defaults
        merged.update({k: v for k, v in self.rules.get(rule.id, {}).items() if k not in RULE_SETTING_KEYS})
        return merged

    def severity_for(self, rule: Rule) -> str:
        return str(self.rules.get(rule.id, {}).get("severity", rule.severity))

    def enabled(self, rule: Rule) -> bool:
        return bool(self.rules.get(rule.id, {}).get("enabled", True))


def find_config(scan_root: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = scan_root / name
        if candidate.is_file():
            return candidate
    pyproject = scan_root / "pyproject.toml"
    if pyproject.is_file():
        try:
            if "[tool.auditor]" in pyproject.read_text(encoding="utf-8", errors="replace"):
                return pyproject
        except OSError:
            return None
    return None


def load_config(path: Path | None, catalog: dict[str, Rule]) -> Config:
    if path is None:
        return Config()
    data = _read(path)
    _validate(data, path, catalog)
    known = Config.__dataclass_fields__
    return Config(source=str(path), **{k: v for k, v in data.items() if k in known and k != "source"})


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
    if path.name == "pyproject.toml":
        import tomllib

        try:
            data = tomllib.loads(text).get("tool", {}).get("auditor", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    return _dates_as_text(data)


def _dates_as_text(value: Any) -> Any:
    """YAML and TOML read `until: 2027-03-31` as a date; the schema and the suppressions take
    the ISO text, whichever way the user wrote it."""
    import datetime as dt

    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def _validate(data: dict[str, Any], path: Path, catalog: dict[str, Rule]) -> None:
    import jsonschema

    schema = json.loads((SCHEMA_DIR / "config.schema.json").read_text())
    known_keys = sorted(schema["properties"])
    for key in data:
        if key not in schema["properties"]:
            hint = _closest(key, known_keys)
            raise ConfigError(f"{path}: unknown setting {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                              + f"; known settings: {', '.join(known_keys)}")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "(top)"
        raise ConfigError(f"{path}: {where}: {error.message}")
    for listed in ("select", "ignore"):
        for rule_id in data.get(listed, []):
            if not any(r.startswith(rule_id) for r in catalog):
                raise ConfigError(f"{path}: {listed}: no rule matches {rule_id!r}")
    for rule_id, settings in data.get("rules", {}).items():
        rule = catalog.get(rule_id)
        if rule is None:
            raise ConfigError(f"{path}: rules.{rule_id}: no such rule (see `auditor rules`)")
        for name, value in settings.items():
            if name in RULE_SETTING_KEYS:
                continue
            if name not in rule.parameters:
                params = ", ".join(rule.parameters) or "none"
                raise ConfigError(f"{path}: rules.{rule_id}.{name}: {rule_id} has no parameter {name!r} "
                                  f"(its parameters: {params})")
            spec = {k: v for k, v in rule.parameters[name].items() if k not in ("default", "description")}
            problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(spec).iter_errors(value))
            if problem is not None:
                raise ConfigError(f"{path}: rules.{rule_id}.{name}: {problem.message}")


def _closest(word: str, candidates: list[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, candidates, n=1)
    return matches[0] if matches else None
