"""Configuration: what the audited tree may decide (policy) and what only the user may (machinery).

The tree's own configuration (``.auditor.yaml`` or ``[tool.auditor]`` in ``pyproject.toml``) is
*policy*: rule parameters, severities, ``enabled``, suppressions with reasons, excludes,
``fail_on``, ``select``/``ignore``, and resource bounds *lowered*. It can never name a program, a
cache or log folder, a network setting or a worker count, nor raise a resource bound: those are
*machinery* and come only from the command line, the environment (``AUDITOR_*``), a ``--config
FILE`` outside the tree, or the user's own ``$XDG_CONFIG_HOME/auditor/config.yaml``.

Validated against ``schemas/config.schema.json`` and against the catalog (rule IDs, parameter
names and parameter types), so a typo is an error that names the key, never silently ignored.
Configuration files are read like any other file of a hostile tree: never through a symbolic link
that leaves it, never from a FIFO, size-capped; an error quotes the key, never the content.
"""
from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.catalog import SCHEMA_DIR, Rule
from auditor.params import ParameterError, Params, typed
from auditor.patterns import on_first_use
from auditor.store import inside

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

CONFIG_NAMES = (".auditor.yaml", ".auditor.yml")
RULE_SETTING_KEYS = ("enabled", "severity")
CONFIG_SIZE_CAP = 1024 * 1024  # bytes; a configuration is a page or two
_TOOL_AUDITOR = on_first_use(r"^\s*\[\s*tool\s*\.\s*auditor\s*[\].]", re.MULTILINE)

# Machinery: only the command line, the environment or the user's own configuration set these.
MACHINERY_KEYS = ("jobs",)
SCANNER_MACHINERY_KEYS = ("trivy_path", "trivy_sha256", "npm_path", "cache_dir", "offline", "timeout_seconds")
# Resource bounds: the tree may lower them (what is then not checked is reported), never raise them.
BOUND_DEFAULTS: dict[str, int | float] = {"max_file_size": 5 * 1024 * 1024, "max_files": 100_000,
                                          "max_include_depth": 10, "parse_timeout": 10.0}
ENV_PREFIX = "AUDITOR_"
# environment variable -> (setting, type)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "AUDITOR_TRIVY_PATH": ("scanners.trivy_path", "str"),
    "AUDITOR_TRIVY_SHA256": ("scanners.trivy_sha256", "str"),
    "AUDITOR_NPM_PATH": ("scanners.npm_path", "str"),
    "AUDITOR_CACHE_DIR": ("scanners.cache_dir", "str"),
    "AUDITOR_OFFLINE": ("scanners.offline", "bool"),
    "AUDITOR_TIMEOUT_SECONDS": ("scanners.timeout_seconds", "float"),
    "AUDITOR_JOBS": ("jobs", "int"),
    "AUDITOR_MAX_FILE_SIZE": ("max_file_size", "int"),
    "AUDITOR_MAX_FILES": ("max_files", "int"),
    "AUDITOR_MAX_INCLUDE_DEPTH": ("max_include_depth", "int"),
    "AUDITOR_PARSE_TIMEOUT": ("parse_timeout", "float"),
    "AUDITOR_NO_CACHE": ("no_cache", "bool"),
}
TRUSTED_CHANNELS = {
    "scanners.trivy_path": "with --trivy PATH or AUDITOR_TRIVY_PATH",
    "scanners.trivy_sha256": "with AUDITOR_TRIVY_SHA256",
    "scanners.npm_path": "with AUDITOR_NPM_PATH",
    "scanners.cache_dir": "with AUDITOR_CACHE_DIR",
    "scanners.offline": "with AUDITOR_OFFLINE",
    "scanners.timeout_seconds": "with AUDITOR_TIMEOUT_SECONDS",
    "jobs": "with --jobs N or AUDITOR_JOBS",
}


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
    architecture: dict[str, Any] = field(default_factory=dict)  # the profile (architecture/profile.py) + document
    from_tree: bool = False  # read from the audited tree (untrusted: policy only)
    tree_settings: frozenset[str] = frozenset()  # the top-level keys the tree's file set
    trusted_keys: frozenset[str] = frozenset()  # the top-level keys a trusted --config FILE set
    cache_folder: str | None = None  # the incremental cache (auditor/cache.py); None: off. Machinery only

    def __post_init__(self) -> None:
        # per rule ID: the merged values and their conversion, made at load (``load_config``) and
        # reused while the values stay the same (the command line may add the architecture document)
        self._typed: dict[str, tuple[dict[str, Any], Params]] = {}

    def parameters_for(self, rule: Rule) -> Params:
        """The rule's parameters, typed (``auditor.params``): defaults, the profile, then this
        configuration. A value that does not convert is a ``ConfigError`` naming the key."""
        merged = self._merged_parameters(rule)
        known = self._typed.get(rule.id)
        if known is not None and known[0] == merged:
            return known[1]
        try:
            converted = typed(rule.parameters, merged)
        except ParameterError as error:
            raise ConfigError(f"{self.source or '(configuration)'}: rules.{rule.id}.{error}") from None
        self._typed[rule.id] = (merged, converted)
        return converted

    def _merged_parameters(self, rule: Rule) -> dict[str, Any]:
        merged = rule.defaults
        if self.architecture:  # a `profile:` parameter follows the configuration's profile
            from auditor.architecture.profile import parameter_value, resolved

            values = resolved(self.architecture)
            merged.update({name: parameter_value(spec, values) for name, spec in rule.parameters.items()
                           if "profile" in spec})
            if "document" in rule.parameters and self.architecture.get("document"):  # the AR rules
                merged["document"] = self.architecture["document"]
                merged["_document_trusted"] = bool(self.architecture.get("_trusted"))
        merged.update({k: v for k, v in self.rules.get(rule.id, {}).items() if k not in RULE_SETTING_KEYS})
        if merged.get("_document_trusted") and merged.get("document") != self.architecture.get("document"):
            # a rule's own `document:` may come from the tree: only the trusted one is read outside it
            merged["_document_trusted"] = False
        return merged

    def severity_for(self, rule: Rule) -> str:
        return str(self.rules.get(rule.id, {}).get("severity", rule.severity))

    def enabled(self, rule: Rule) -> bool:
        return bool(self.rules.get(rule.id, {}).get("enabled", True))


def config_folders(scan_root: Path) -> list[Path]:
    """Where the tree's configuration is looked for, nearest first: the scan root, then each
    folder above it up to the repository root (the nearest folder holding ``.git``), never
    above it; outside a repository, the scan root only. The folders are the scan root's own
    (lexical) parents: a symbolic link is never followed out of them."""
    from auditor.ignore import repository_root

    start = Path(os.path.abspath(scan_root))
    repository = repository_root(start)
    if repository is None:
        return [scan_root]
    # the scan root as given (a configuration there is named as before), then its parents
    return [scan_root] + [folder for folder in start.parents if folder == repository or repository in folder.parents]


def find_config(scan_root: Path) -> Path | None:
    """The tree's own configuration file, if any: the first found walking up from the scan root
    to the repository root (``config_folders``)."""
    for folder in config_folders(scan_root):
        found = _config_in(folder)
        if found is not None:
            return found
    return None


def _config_in(scan_root: Path) -> Path | None:
    """The configuration file of one folder, if any. Its name is looked at with ``lstat`` only: a
    symbolic link is returned as is and refused by ``load_config`` when it leaves the tree."""
    for name in CONFIG_NAMES:
        candidate = scan_root / name
        if os.path.lexists(candidate):
            return candidate
    pyproject = scan_root / "pyproject.toml"
    if os.path.lexists(pyproject):
        try:
            text = read_config_text(pyproject, scan_root)
        except ConfigError:
            return None  # not readable as a file: the project may not use it for us at all
        import tomllib

        try:  # `[tool.auditor]`, `[tool.auditor.scanners]`, `tool.auditor.x = ...` all count
            tool = tomllib.loads(text).get("tool", {})
            return pyproject if isinstance(tool, dict) and "auditor" in tool else None
        except tomllib.TOMLDecodeError:  # broken: ours only if it names our table (then say why)
            return pyproject if _TOOL_AUDITOR.search(text) else None
    return None


def load_config(path: Path | None, catalog: dict[str, Rule], *, tree_root: Path | None = None,
                trusted: bool = False, bounds: Mapping[str, int | float] | None = None) -> Config:
    """Read and validate one configuration file.

    ``trusted=False`` (the default): the file came with the audited tree (``tree_root``), so it
    may set policy only; a setting that names a program, a folder, an endpoint, a worker count, or
    raises a resource bound is an error that says where such a setting belongs."""
    if path is None:
        return Config()
    data = _read(path, None if trusted else (tree_root or path.parent))
    _validate(data, path, catalog)
    if not trusted:
        refuse_machinery(data, path, bounds or BOUND_DEFAULTS)
    known = Config.__dataclass_fields__
    internal = ("source", "from_tree", "tree_settings", "trusted_keys")
    config = Config(source=str(path), **{k: v for k, v in data.items() if k in known and k not in internal})
    config.tree_settings = frozenset(data) if not trusted else frozenset()
    config.trusted_keys = frozenset(data) if trusted else frozenset()
    config.from_tree = not trusted
    for rule in catalog.values():  # parameters are converted now: a bad value stops here, naming its key
        config.parameters_for(rule)
    return config


def refuse_machinery(data: dict[str, Any], path: Path, bounds: Mapping[str, int | float]) -> None:
    """A configuration from the audited tree names no program, folder, endpoint or worker count,
    and loosens no resource bound: each would hand the tree control over the auditor itself."""
    for key in MACHINERY_KEYS:
        if key in data:
            raise ConfigError(_machinery_message(path, key))
    for key, value in (data.get("scanners") or {}).items():
        if key in SCANNER_MACHINERY_KEYS:
            raise ConfigError(_machinery_message(path, f"scanners.{key}"))
    for key, limit in bounds.items():
        if key in data and data[key] > limit:
            raise ConfigError(
                f"{path}: {key}: the audited tree's configuration may lower a resource bound, never "
                f"raise it above {limit} (a hostile tree would exhaust the machine); raise it in the "
                f"environment ({ENV_PREFIX}{key.upper()}) or in your own {user_config_path()}")


def _machinery_message(path: Path, key: str) -> str:
    where = TRUSTED_CHANNELS.get(key, f"{ENV_PREFIX}{key.rpartition('.')[2].upper()}")
    return (f"{path}: {key}: the audited tree's configuration cannot set this: it names a program, a "
            f"folder, a network setting or a worker count, and the tree must not choose what the "
            f"auditor runs or where it writes. Set it {where}, or in your own "
            f"{user_config_path()} (outside the tree); the tree's configuration holds policy only "
            f"(rules, severities, suppressions, excludes, fail_on)")


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/auditor/config.yaml`` (default ``~/.config/auditor/config.yaml``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "auditor" / "config.yaml"


def load_user_config(catalog: dict[str, Rule]) -> dict[str, Any]:
    """The user's own machinery settings (scanners, jobs, resource bounds), outside any tree.
    Policy does not go there: it belongs to the project (.auditor.yaml) or to ``--policy``."""
    path = user_config_path()
    if not os.path.lexists(path):
        return {}
    data = _read(path, None)
    _validate(data, path, catalog)
    policy = sorted(k for k in data if k not in MACHINERY_KEYS and k not in BOUND_DEFAULTS and k != "scanners")
    if policy:
        raise ConfigError(f"{path}: {policy[0]}: your user configuration holds machinery only (scanners, jobs, "
                          "resource bounds); put policy in the project's .auditor.yaml, in --config FILE or "
                          "in a --policy FILE")
    return data


def _environment_bool(text: str) -> bool:
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[text.strip().lower()]


# How each kind in ENVIRONMENT reads its text (ValueError or KeyError: not a valid value).
_ENVIRONMENT_KINDS: dict[str, Callable[[str], object]] = {
    "int": int, "float": float, "str": str, "bool": _environment_bool,
}


def environment_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``AUDITOR_*`` variables: ``AUDITOR_TRIVY_PATH``, ``AUDITOR_NPM_PATH``, ``AUDITOR_JOBS``..."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    scanners: dict[str, Any] = {}
    for name, (key, kind) in ENVIRONMENT.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            value: Any = _ENVIRONMENT_KINDS[kind](raw)
        except (ValueError, KeyError):
            raise ConfigError(f"{name}: not a valid {kind} value") from None
        if key.startswith("scanners."):
            scanners[key.partition(".")[2]] = value
        else:
            settings[key] = value
    if scanners:
        settings["scanners"] = scanners
    return settings


def program_path(value: str, where: str) -> str:
    """A program named by a trusted source: absolute, or a bare name looked up on the absolute
    entries of PATH. A relative path is refused: it would resolve against the working directory,
    which in CI is the checkout under audit."""
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return expanded
    if os.sep in expanded or (os.altsep and os.altsep in expanded):
        raise ConfigError(f"{where}: {value!r} is a relative path; give an absolute path or a bare program "
                          "name looked up on PATH (a relative path would be resolved against the working "
                          "directory, which may be the tree under audit)")
    from auditor.programs import find_program

    return find_program(expanded) or expanded


def read_config_text(path: Path, tree_root: Path | None) -> str:
    """A configuration file read like any other file of an untrusted tree: never through a
    symbolic link that leaves ``tree_root``, never from a FIFO or device, at most
    ``CONFIG_SIZE_CAP`` bytes. Errors name the file, never its content."""
    if tree_root is not None:
        real_root = os.path.realpath(tree_root)
        target = os.path.realpath(path)
        if os.path.commonpath([target, real_root]) != real_root:
            raise ConfigError(f"{path}: the configuration file is a symbolic link that leaves the audited tree; "
                              "not read (a tree's configuration must be a file of the tree)")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: the configuration is not a regular file (a FIFO, socket, device or "
                              "folder); not read")
        if info.st_size > CONFIG_SIZE_CAP:
            raise ConfigError(f"{path}: the configuration is {info.st_size:,} bytes, over the "
                              f"{CONFIG_SIZE_CAP:,}-byte cap for a configuration file; not read")
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(CONFIG_SIZE_CAP + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    finally:
        os.close(descriptor)
    if len(data) > CONFIG_SIZE_CAP:
        raise ConfigError(f"{path}: the configuration is over the {CONFIG_SIZE_CAP:,}-byte cap; not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the configuration is not UTF-8 text; not read") from None


def _read(path: Path, tree_root: Path | None) -> dict[str, Any]:
    text = read_config_text(path, tree_root)
    if path.name == "pyproject.toml":
        import tomllib

        try:
            data = tomllib.loads(text).get("tool", {}).get("auditor", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {_position_only(str(exc))}") from exc
    else:
        data = load_yaml_text(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    return {key: _dates_as_text(item) for key, item in data.items()}


MAX_CONFIG_NODES = 100_000  # values with every alias expanded; a configuration has hundreds


def load_yaml_text(text: str, label: str) -> Any:
    """``yaml.safe_load`` for a configuration, bounded: nesting that exhausts the parser and
    aliases that expand past ``MAX_CONFIG_NODES`` values ("billion laughs") are errors, and an
    error names the line, never the content."""
    from auditor.pyyaml import yaml

    try:
        data = yaml.safe_load(text)
        size = _expanded_size(data, {})
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{label}: invalid YAML{where}: {problem}") from exc
    except RecursionError:
        raise ConfigError(f"{label}: the configuration is nested too deeply; not read") from None
    if size > MAX_CONFIG_NODES:
        raise ConfigError(f"{label}: the configuration expands to over {MAX_CONFIG_NODES:,} values "
                          "(aliases of aliases); not read")
    return data


def _expanded_size(value: Any, seen: dict[int, int]) -> int:
    """How many values ``value`` holds with every shared (aliased) one counted each time it is
    used; each object is weighed once, so this costs the document's size, not its expansion."""
    if not isinstance(value, (dict, list)):
        return 1
    known = seen.get(id(value))
    if known is not None:
        return known
    seen[id(value)] = MAX_CONFIG_NODES + 1  # a cycle (an alias inside itself) counts as too big
    items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    total = 1
    for item in items:
        total += _expanded_size(item, seen)
        if total > MAX_CONFIG_NODES:
            break
    seen[id(value)] = total
    return total


def _position_only(message: str) -> str:
    """tomllib's message without anything quoted from the file (it quotes nothing today; keep it so)."""
    return message.split("\n")[0][:200]


def shown(value: Any, limit: int = 60) -> str:
    """A key or value of a configuration, for an error message: escaped and short."""
    text = repr(value) if not isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
            hint = _closest(key, known_keys) if isinstance(key, str) else None
            raise ConfigError(f"{path}: unknown setting {shown(key)}" + (f" (did you mean {hint!r}?)" if hint else "")
                              + f"; known settings: {', '.join(known_keys)}")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = ".".join(shown(part, 40).strip("'") for part in error.absolute_path) or "(top)"
        raise ConfigError(f"{path}: {where}: {_schema_problem(error)}")
    for listed in ("select", "ignore"):
        for rule_id in data.get(listed, []):
            if not any(r.startswith(rule_id) for r in catalog):
                raise ConfigError(f"{path}: {listed}: no rule matches {rule_id!r}")
    for index, entry in enumerate(data.get("suppress", [])):
        pattern = str(entry["rule"]).upper()
        if not any(r.startswith(pattern) for r in catalog):
            raise ConfigError(f"{path}: suppress.{index}.rule: no rule matches {pattern!r}; "
                              "name a rule ID or an ID prefix (`auditor rules` lists them)")
    if "architecture" in data:
        from auditor.architecture.profile import problems

        found = problems(data["architecture"])
        if found:
            raise ConfigError(f"{path}: {found[0]}")
    for rule_id, settings in data.get("rules", {}).items():
        rule = catalog.get(rule_id)
        if rule is None:
            raise ConfigError(f"{path}: rules.{rule_id}: no such rule (see `auditor rules`)")
        for name, value in settings.items():
            if name in RULE_SETTING_KEYS:
                continue
            if name not in rule.parameters:
                params = ", ".join(rule.parameters) or "none"
                raise ConfigError(f"{path}: rules.{rule_id}.{shown(name).strip(chr(39))}: {rule_id} has no parameter "
                                  f"{shown(name)} (its parameters: {params})")
            spec = {k: v for k, v in rule.parameters[name].items() if k not in ("default", "description")}
            problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(spec).iter_errors(value))
            if problem is not None:
                raise ConfigError(f"{path}: rules.{rule_id}.{name}: {_schema_problem(problem)}")


def _schema_problem(error: ValidationError) -> str:
    """What is wrong, from the schema's side (its type, enum or pattern), without echoing more
    than a short, escaped piece of the value."""
    validator = error.validator
    expected: Any = error.validator_value  # the failing keyword's schema value: a list for enum, a number...
    if validator == "enum":
        return "must be one of " + ", ".join(str(v) for v in expected)
    if validator == "type":
        return f"must be of type {expected}"
    if validator == "pattern":
        return f"{shown(error.instance, 40)} does not match the pattern {expected}"
    if validator == "minLength":
        return "must not be empty"
    if validator in ("required", "additionalProperties"):
        return error.message[:200]
    if validator in ("minimum", "exclusiveMinimum", "maximum"):
        return f"must be {'at least' if validator == 'minimum' else 'above' if validator == 'exclusiveMinimum' else 'at most'} {expected}"
    return f"invalid value ({validator})"


def _closest(word: str, candidates: list[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, candidates, n=1)
    return matches[0] if matches else None


@dataclass
class Settings:
    """The configuration to audit with, and the bounds the trusted sources set (the tree may go
    below them, never above)."""

    config: Config
    trusted_bounds: dict[str, int | float]


def load_settings(scan_root: Path, config_arg: str | None, catalog: dict[str, Rule], *,
                  trivy: str | None = None, jobs: int | None = None, cache_dir: str | None = None,
                  no_cache: bool = False) -> Settings:
    """Policy from the tree's configuration (or a ``--config FILE`` outside the tree), machinery
    from the trusted sources, highest first: the command line, ``AUDITOR_*``, a ``--config FILE``
    outside the tree, the user's ``$XDG_CONFIG_HOME/auditor/config.yaml``."""
    tree_file: Path | None = None
    trusted_file: Path | None = None
    if config_arg:
        given = Path(config_arg)
        if not os.path.lexists(given):
            raise ConfigError(f"--config {config_arg}: no such file")
        if inside(given, scan_root):
            tree_file = given
        else:
            trusted_file = given
    else:
        tree_file = find_config(scan_root)
    layers: list[dict[str, Any]] = [load_user_config(catalog)]
    trusted_config = None
    if trusted_file is not None:
        trusted_config = load_config(trusted_file, catalog, trusted=True)
        layers.append({k: getattr(trusted_config, k) for k in (*MACHINERY_KEYS, *BOUND_DEFAULTS)
                       if k in trusted_config.trusted_keys} | {"scanners": trusted_config.scanners})
    layers.append(environment_settings())
    command_line: dict[str, Any] = {}
    if trivy:
        command_line["scanners"] = {"trivy_path": trivy}
    if cache_dir:
        command_line["scanners"] = {**command_line.get("scanners", {}), "cache_dir": cache_dir}
    if no_cache:
        command_line["no_cache"] = True
    if jobs is not None:
        command_line["jobs"] = jobs
    layers.append(command_line)
    merged: dict[str, Any] = {"scanners": {}}
    for layer in layers:
        for key, value in layer.items():
            if key == "scanners":
                merged["scanners"].update(value or {})
            else:
                merged[key] = value
    bounds = {key: merged.get(key, default) for key, default in BOUND_DEFAULTS.items()}
    for key, where in (("trivy_path", "the trivy program"), ("npm_path", "the npm program")):
        if merged["scanners"].get(key):
            merged["scanners"][key] = program_path(str(merged["scanners"][key]), where)
    if trusted_config is not None:
        config = trusted_config
    else:
        # a configuration found above the scan root (in the repository) is read as a file of
        # the repository: never through a link that leaves it
        config_root = scan_root if tree_file is None or inside(tree_file, scan_root) else config_folders(scan_root)[-1]
        config = load_config(tree_file, catalog, tree_root=config_root, bounds=bounds)
        for key, value in bounds.items():
            if key not in config.tree_settings:
                setattr(config, key, value)
    config.scanners = {**config.scanners, **merged["scanners"]}
    if "jobs" in merged:
        config.jobs = merged["jobs"]
    if not merged.get("no_cache"):
        from auditor.store import cache_folder

        config.cache_folder = cache_folder(merged["scanners"].get("cache_dir"), scan_root)
    return Settings(config, bounds)
