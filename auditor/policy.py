"""What the audited tree's configuration weakened, and the trusted floor (``--policy FILE``) it
cannot go below.

The tree's configuration is policy, but a hostile tree can use policy to switch the audit off
(``exclude: ["*"]``, every rule disabled, ``fail_on: none``). So:

- without ``--policy``, every weakening it makes is *listed* in every output format (text summary,
  JSON ``policy``, SARIF run properties, Markdown, JUnit, the compliance report's scope), and one
  that leaves nothing to audit (no file of an audited kind, no control) fails the gate;
- with ``--policy FILE`` (from outside the tree), the floor's rules stay on at their severities,
  its ``fail_on`` stays the laxest threshold, its protected paths stay audited and (unless it
  allows them) the tree's configured suppressions are not honoured. Each weakening the floor
  refused is still listed, marked ``refused``.

A policy file::

    required: [DF, DC, KS, NG, NX, XF, SC, AUD]   # rules/prefixes the tree cannot switch off (default: all)
    severities: {DF008: critical}                 # the lowest severity the tree may give (default: catalog)
    fail_on: high                                 # the laxest threshold the tree may set (default: high)
    protected_paths: ["*"]                        # globs the tree cannot exclude (default: everything)
    allow_suppress: false                         # honour the tree's `suppress:` entries (default: no)
    allow_lower_bounds: false                     # let the tree lower resource bounds (default: no)
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field

from auditor.catalog import Rule
from auditor.config import BOUND_DEFAULTS, Config, ConfigError, load_yaml_text, read_config_text, shown
from auditor.findings import SEVERITIES, SEVERITY_RANK

if TYPE_CHECKING:
    from auditor.discovery import Discovered

DEFAULT_FAIL_ON = "high"
_THRESHOLD_RANK = {**SEVERITY_RANK, "none": len(SEVERITIES)}  # none: laxer than critical
_TRIVY_LEVELS = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_NPM_LEVELS = ("info", "low", "moderate", "high", "critical")
SCANNER_DEFAULTS = {"severity_threshold_trivy": "HIGH", "severity_threshold_npm": "high"}
POLICY_KEYS = ("required", "severities", "fail_on", "protected_paths", "allow_suppress", "allow_lower_bounds")


@dataclass(frozen=True)
class Weakening:
    """One thing the tree's configuration made laxer than the defaults."""

    setting: str  # where: "rules.DF008.enabled", "exclude[0]", "fail_on"
    change: str  # what it does, in one sentence
    level: str = "warning"  # "info" (a parameter changed), "warning", "error" (nothing left to audit)
    refused: bool = False  # the --policy floor kept the stricter setting

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "change": self.change, "level": self.level, "refused": self.refused}

    def text(self) -> str:
        return f"{self.setting}: {self.change}" + (" (refused by the policy floor)" if self.refused else "")


@dataclass
class PolicyReport:
    """The configuration's provenance and what it weakened, for every output format."""

    config: str | None = None  # the configuration file (relative to the scan root when in the tree)
    from_tree: bool = False
    floor: str | None = None  # the --policy file
    weakenings: list[Weakening] = field(default_factory=list)

    @property
    def blocking(self) -> list[Weakening]:
        """Error-level weakenings the floor did not refuse: they fail the gate."""
        return [w for w in self.weakenings if w.level == "error" and not w.refused]

    @property
    def listed(self) -> list[Weakening]:
        return [w for w in self.weakenings if w.level != "info"]

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "config_from_tree": self.from_tree, "floor": self.floor,
                "blocking": bool(self.blocking), "weakenings": [w.to_dict() for w in self.weakenings]}


@dataclass(frozen=True)
class Floor:
    source: str
    required: tuple[str, ...] = ("",)  # rule-ID prefixes; "" is every rule
    severities: dict[str, str] = field(default_factory=dict)
    fail_on: str = DEFAULT_FAIL_ON
    protected_paths: tuple[str, ...] = ("*",)
    allow_suppress: bool = False
    allow_lower_bounds: bool = False

    def requires(self, rule_id: str) -> bool:
        return rule_id.startswith(self.required)

    def severity_floor(self, rule: Rule) -> str | None:
        if rule.id in self.severities:
            return self.severities[rule.id]
        return rule.severity if self.requires(rule.id) else None

    def protects(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern) for pattern in self.protected_paths)


def load_floor(path: Path, scan_root: Path, catalog: dict[str, Rule]) -> Floor:
    """Read ``--policy FILE``; it must come from outside the audited tree."""
    real_root, real = os.path.realpath(scan_root), os.path.realpath(path)
    if os.path.commonpath([real, real_root]) == real_root:
        raise ConfigError(f"--policy {path}: the policy file is inside the audited tree; the floor must come "
                          "from outside it (the CI repository's own policy), or the tree could write its own")
    if not os.path.lexists(path):
        raise ConfigError(f"--policy {path}: no such file")
    data = load_yaml_text(read_config_text(path, None), f"--policy {path}") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"--policy {path}: the policy must be a mapping of settings")
    for key in data:
        if key not in POLICY_KEYS:
            raise ConfigError(f"--policy {path}: unknown setting {shown(key)}; known: {', '.join(POLICY_KEYS)}")
    required = data.get("required", [""])
    if not isinstance(required, list) or not all(isinstance(p, str) for p in required):
        raise ConfigError(f"--policy {path}: required: a list of rule IDs or prefixes")
    required = [p.upper() for p in required]
    for prefix in required:
        if not any(rule_id.startswith(prefix) for rule_id in catalog):
            raise ConfigError(f"--policy {path}: required: no rule matches {shown(prefix)}")
    severities = data.get("severities", {})
    if not isinstance(severities, dict):
        raise ConfigError(f"--policy {path}: severities: a mapping of rule ID to severity")
    for rule_id, severity in severities.items():
        if rule_id not in catalog:
            raise ConfigError(f"--policy {path}: severities.{shown(rule_id)}: no such rule")
        if severity not in SEVERITIES:
            raise ConfigError(f"--policy {path}: severities.{rule_id}: must be one of {', '.join(SEVERITIES)}")
    fail_on = data.get("fail_on", DEFAULT_FAIL_ON)
    if fail_on not in _THRESHOLD_RANK:
        raise ConfigError(f"--policy {path}: fail_on: must be one of {', '.join(_THRESHOLD_RANK)}")
    protected = data.get("protected_paths", ["*"])
    if not isinstance(protected, list) or not all(isinstance(p, str) and p for p in protected):
        raise ConfigError(f"--policy {path}: protected_paths: a list of non-empty globs")
    flags = {}
    for key in ("allow_suppress", "allow_lower_bounds"):
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise ConfigError(f"--policy {path}: {key}: true or false")
        flags[key] = value
    return Floor(str(path), tuple(required), dict(severities), fail_on, tuple(protected), **flags)


def _rules_matching(catalog: dict[str, Rule], prefix: str) -> list[str]:
    return sorted(rule_id for rule_id in catalog if rule_id.startswith(prefix))


def _some(rule_ids: list[str], limit: int = 6) -> str:
    return ", ".join(rule_ids[:limit]) + (f" and {len(rule_ids) - limit} more" if len(rule_ids) > limit else "")


def apply_policy(config: Config, catalog: dict[str, Rule], floor: Floor | None,
                 trusted_bounds: dict[str, Any]) -> list[Weakening]:
    """List what the tree's ``config`` weakens, and with a ``floor`` undo what goes below it (in
    place). Excludes are judged later, by their effect (``judge_excludes``)."""
    if not config.from_tree:
        return []
    found: list[Weakening] = []

    def note(setting: str, change: str, refused: bool = False, level: str = "warning") -> None:
        found.append(Weakening(setting, change, level, refused))

    for rule_id, settings in sorted(config.rules.items()):
        rule = catalog[rule_id]
        if settings.get("enabled", True) is False:
            refused = floor is not None and floor.requires(rule_id)
            note(f"rules.{rule_id}.enabled", f"{rule_id} switched off", refused)
            if refused:
                settings.pop("enabled")
        severity = settings.get("severity")
        if severity is not None:
            minimum = floor.severity_floor(rule) if floor else None
            if minimum is not None and SEVERITY_RANK[severity] < SEVERITY_RANK[minimum]:
                note(f"rules.{rule_id}.severity", f"{rule_id} lowered from {rule.severity} to {severity}", True)
                if minimum == rule.severity:
                    settings.pop("severity")
                else:
                    settings["severity"] = minimum
            elif SEVERITY_RANK[severity] < SEVERITY_RANK[rule.severity]:
                note(f"rules.{rule_id}.severity", f"{rule_id} lowered from {rule.severity} to {severity}")
        for name in sorted(k for k in settings if k not in ("enabled", "severity")):
            note(f"rules.{rule_id}.{name}", f"{rule_id} parameter {name} set to {settings[name]!r} "
                 f"(default {rule.defaults.get(name)!r})", level="info")

    if config.architecture:  # the profile is policy: a weaker number is listed like any weakening
        from auditor.architecture.profile import PROFILE, flatten, weakens

        for key, value in sorted(flatten(config.architecture).items(), key=lambda item: item[0]):
            if key in PROFILE and value != PROFILE[key].default:
                weaker = weakens(key, value)
                note(f"architecture.{key}", f"profile {key} set to {value!r} (default {PROFILE[key].default!r})"
                     + ("; weaker for every control that uses it" if weaker else ""),
                     level="warning" if weaker else "info")

    kept_ignore = []
    for index, prefix in enumerate(config.ignore):
        dropped = _rules_matching(catalog, prefix)
        refused = floor is not None and any(floor.requires(r) for r in dropped)
        note(f"ignore[{index}]", f"ignore {prefix}: {len(dropped)} rule(s) not run ({_some(dropped)})", refused)
        if not refused:
            kept_ignore.append(prefix)
    config.ignore = kept_ignore

    if config.select:
        chosen = tuple(config.select)
        left_out = sorted(r for r, rule in catalog.items() if not r.startswith(chosen) and rule.target != "engine")
        if left_out:
            refused = floor is not None and any(floor.requires(r) for r in left_out)
            note("select", f"select {', '.join(config.select)}: {len(left_out)} rule(s) not run "
                 f"({_some(left_out)})", refused)
            if refused and floor is not None:
                config.select = list(config.select) + list(floor.required)

    for index, entry in enumerate(config.suppress):
        refused = floor is not None and not floor.allow_suppress
        note(f"suppress[{index}]", f"{entry['rule']} waived at {entry.get('path', '*')!r}: "
             f"{entry.get('reason', '')}" + (f" (until {entry['until']})" if entry.get("until") else ""), refused)
    if floor is not None and not floor.allow_suppress:
        config.suppress = []

    tree_fail_on = config.fail_on if "fail_on" in config.tree_settings else None
    if tree_fail_on is not None:
        limit = floor.fail_on if floor else DEFAULT_FAIL_ON
        if _THRESHOLD_RANK[tree_fail_on] > _THRESHOLD_RANK[limit]:
            what = "the gate never fails" if tree_fail_on == "none" else f"only {tree_fail_on} findings fail the gate"
            note("fail_on", f"fail_on {tree_fail_on} (default {DEFAULT_FAIL_ON}): {what}", floor is not None)
            if floor is not None:
                config.fail_on = floor.fail_on
    elif floor is not None:
        config.fail_on = floor.fail_on

    scanners = config.scanners
    for key, levels in (("severity_threshold_trivy", _TRIVY_LEVELS), ("severity_threshold_npm", _NPM_LEVELS)):
        value = scanners.get(key)
        if value is not None and levels.index(value) > levels.index(SCANNER_DEFAULTS[key]):
            note(f"scanners.{key}", f"scanner results below {value} are dropped (default {SCANNER_DEFAULTS[key]})",
                 floor is not None)
            if floor is not None:
                scanners.pop(key)
    if scanners.get("ignore_unfixed"):
        note("scanners.ignore_unfixed", "vulnerabilities without a fixed version are not reported", floor is not None)
        if floor is not None:
            scanners.pop("ignore_unfixed")

    for name, role in sorted(getattr(config, "roles", {}).items()):
        # a workload declared `other` escapes the app and proxy controls: a reviewer must see it
        note(f"roles.{name}", f"workload {name!r} declared {role}: the controls of its inferred role may not apply",
             level="warning" if role == "other" else "info")

    for key in BOUND_DEFAULTS:
        if key not in config.tree_settings:
            continue
        value, trusted = getattr(config, key), trusted_bounds[key]
        if value < trusted:
            refused = floor is not None and not floor.allow_lower_bounds
            what = {"max_file_size": f"files over {value:,} bytes are not checked",
                    "max_files": f"files beyond the first {value:,} are not read",
                    "max_include_depth": f"nginx includes deeper than {value} are not followed",
                    "parse_timeout": f"files taking over {value} s of CPU time to parse are not checked"}[key]
            note(key, f"{key} lowered to {value} (from {trusted}): {what}", refused)
            if refused:
                setattr(config, key, trusted)
    return found


def recognised(found: Discovered) -> list[str]:
    """The files of a kind the auditor reads (the ones discovery sorted into a bucket)."""
    return sorted({*found.dockerfiles, *found.compose, *found.yaml, *found.nginx, *found.dockerignores,
                   *found.next_files})


def judge_excludes(config: Config, floor: Floor | None, discover_all: Callable[[], Discovered],
                   discover_with: Callable[[list[str]], Discovered]) -> tuple[Discovered, list[Weakening]]:
    """Discover with the tree's excludes, judged by what they remove: listed with the number of
    files each one hides, refused when they hide a path the floor protects, and an error when they
    leave no file of an audited kind in a tree that has some.

    ``discover_all()`` walks without the tree's excludes, ``discover_with(patterns)`` with them."""
    if not config.from_tree or not config.exclude:
        return discover_with(config.exclude), []
    full = discover_all()
    every_file = list(full.files)
    found_weakenings: list[Weakening] = []
    kept: list[str] = []
    for index, pattern in enumerate(config.exclude):
        hider = _Hider(pattern)
        removed = [path for path in every_file if hider.hides(path)]
        protected = [path for path in removed if floor is not None and floor.protects(path)]
        refused = bool(protected)
        shown_files = ", ".join(removed[:3]) + (" ..." if len(removed) > 3 else "")
        found_weakenings.append(Weakening(
            f"exclude[{index}]", f"exclude {pattern!r}: {len(removed)} file(s) not audited"
            + (f" ({shown_files})" if removed else ""), "warning", refused))
        if not refused:
            kept.append(pattern)
    config.exclude = kept
    found = discover_with(kept)
    before, after = recognised(full), recognised(found)
    if before and not after:
        found_weakenings.append(Weakening(
            "exclude", f"the excludes leave no file the auditor reads: all {len(before)} file(s) of an audited "
            "kind in the tree are excluded, so nothing was checked", "error"))
    return found, found_weakenings


def nothing_left_to_run(config: Config, catalog: dict[str, Rule], rules: dict[str, Rule]) -> list[Weakening]:
    """An error when the tree's configuration leaves no control to run (every family disabled)."""
    if not config.from_tree:
        return []
    checking = [r for r in rules.values() if r.target != "engine"]
    if checking or not any(r.target != "engine" for r in catalog.values()):
        return []
    return [Weakening("rules", "the configuration leaves no control to run: every rule that checks the "
                      "tree is switched off, ignored or not selected", "error")]


class _Hider:
    """Whether discovery's exclude ``pattern`` hides a path: the file itself or a folder above it
    (discovery's own test, ``auditor.globs``, gitignore-style), with each folder judged once
    however many files it holds."""

    def __init__(self, pattern: str) -> None:
        from auditor.globs import PathPatterns

        self.patterns = PathPatterns((pattern,))
        self.folders: dict[str, bool] = {}

    def hides(self, path: str) -> bool:
        folder, _, _ = path.rpartition("/")
        return (bool(folder) and self._folder(folder)) or self.patterns.matches(path)

    def _folder(self, folder: str) -> bool:
        known = self.folders.get(folder)
        if known is None:
            parent, _, _ = folder.rpartition("/")
            known = (bool(parent) and self._folder(parent)) or self.patterns.matches(folder, is_dir=True)
            self.folders[folder] = known
        return known
