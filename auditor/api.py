"""The auditor as a library: ``scan(paths) -> AuditResult`` (what ``auditor scan`` runs)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auditor.config import Config
from auditor.engine import AuditResult


def scan(paths: Sequence[Path | str], *, scan_root: Path | None = None, config: Config | None = None,
         select: Sequence[str] = (), ignore: Sequence[str] = ()) -> AuditResult:
    from auditor.catalog import load_catalog
    from auditor.discovery import discover
    from auditor.engine import audit, select_rules
    from auditor.parsers.project import build_project

    roots = [Path(p).absolute() for p in paths]
    scan_root = scan_root or (roots[0] if len(roots) == 1 and roots[0].is_dir() else Path.cwd())
    config = config or Config()
    rules = select_rules(load_catalog(), config, select, ignore)
    found = discover(roots, scan_root, exclude=config.exclude, max_file_size=config.max_file_size,
                     max_files=config.max_files)
    project = build_project(found)
    return audit(project, rules, config, [str(p) for p in paths])
