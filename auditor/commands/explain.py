"""``auditor explain ID``: a control's documentation in the terminal."""
from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.catalog import Rule, load_catalog
from auditor.cli import UsageError

if TYPE_CHECKING:
    from auditor.architecture.document import Statement


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    rule_id = args.rule_id.upper()
    rule = catalog.get(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, list(catalog), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"no rule {args.rule_id!r}{hint}; `auditor rules` lists them all")
    from auditor.report.console import render_explain, use_color

    render_explain(rule, sys.stdout, color=use_color(args.color))
    if rule.parameters:
        _in_force(rule, catalog, args)
    return 0


def _in_force(rule: Rule, catalog: dict[str, Rule], args: argparse.Namespace) -> None:
    """The parameters' values in force for the folder (``--in``, default the current one) and its
    configuration, each with where it came from."""
    from auditor.architecture.profile import parameters_in_force
    from auditor.config import ConfigError, load_settings

    folder = Path(getattr(args, "folder", None) or ".")
    try:
        config = load_settings(folder, getattr(args, "config", None), catalog).config
    except ConfigError as exc:
        sys.stdout.write(f"In force: the configuration could not be read ({exc}); catalog defaults apply\n")
        config = None
    architecture = config.architecture if config else {}
    overrides = {k: v for k, v in (config.rules.get(rule.id, {}) if config else {}).items()
                 if k not in ("enabled", "severity")}
    source = config.source if config else None
    lines = [f"In force{' with ' + source if source else ' (no configuration found: defaults)'}"]
    document_path, stated = _document_values(folder, architecture)
    for name, (value, origin) in parameters_in_force(rule, architecture, overrides, source).items():
        key = rule.parameters[name].get("profile")
        key = "node.major" if key == "node.image" else key
        said = stated.get(key) if key else None
        lines.append(f"  {name} = {value!r}  <- {origin}"
                     + (f"; the document states {said.value!r} at {said.cite(document_path)}" if said else ""))
    sys.stdout.write("\n".join(lines) + "\n")


def _document_values(folder: Path, architecture: dict[str, Any]) -> tuple[str, dict[str, Statement]]:
    """The configured architecture document's path as shown and what it states (no path and
    nothing when none is configured or readable)."""
    name = (architecture or {}).get("document")
    if not name:
        return "", {}
    from auditor.architecture.document import read_document

    from auditor.textsafe import display

    path = Path(name) if Path(name).is_absolute() else Path(folder) / name
    # Only a document named by a trusted source (--architecture, the user's own config) is read
    # wherever it lives; one the tree's configuration names stays inside the tree, as in a scan.
    trusted = bool(architecture.get("_trusted"))
    facts = read_document(path, display(str(name)), None if trusted else Path(folder))
    return facts.path, facts.values()
