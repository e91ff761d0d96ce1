"""The auditor as a library: ``scan(paths) -> AuditResult`` (what ``auditor scan`` runs)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.catalog import Rule
from auditor.config import Config
from auditor.discovery import Discovered
from auditor.engine import AuditResult
from auditor.parallel import few_collections, parse_bounds

__all__ = ["scan", "audit_tree", "parse_bounds"]


def audit_tree(found: Discovered, rules: dict[str, Rule], config: Config, roots: list[str], *,
               jobs: int | None = None, progress: Any = None, **options: Any) -> AuditResult:
    """Parse and check what discovery found, then finish the audit (suppressions, scanners,
    baseline, changed-files filter: ``options`` go to ``engine.audit``).

    A tree of independent projects is audited project by project (in worker processes when it is
    large, see ``auditor.parallel``); anything else is one project.
    """
    started = time.perf_counter()
    with few_collections():
        result = _audit_tree(found, rules, config, roots, jobs, progress, options)
    result.duration_seconds = time.perf_counter() - started  # parsing included, not checks alone
    return result


def _audit_tree(found: Discovered, rules: dict[str, Rule], config: Config, roots: list[str],
                jobs: int | None, progress: Any, options: dict[str, Any]) -> AuditResult:
    from auditor.engine import audit
    from auditor.model.project import Project
    from auditor.parallel import audit_partitions, partitions, worker_count
    from auditor.parsers.project import build_project

    json = bool(options.pop("json_report", False))  # the partitions render their part of a JSON report
    # The external scanners (a thread) start once no process is forked any more (see
    # commands/scan.py's _Scanners): here when the audit forks none, else after its workers.
    start_scanners = getattr(options.get("external"), "start", None) or (lambda: None)
    groups = partitions(found)
    wrap = progress or (lambda work: work())
    if groups is None:
        start_scanners()
        project = wrap(lambda: build_project(found, **parse_bounds(config)))
        return audit(project, rules, config, roots, **options)
    from auditor.cache import open_results
    from auditor.engine import finishing_for

    workers = worker_count(config.jobs if jobs is None else jobs)  # clamped to the CPUs
    cache = open_results(config, rules, found, groups)  # None: off (--no-cache) or not usable
    finishing = finishing_for(config, rules, suppress=options.get("suppress", True),
                              baseline=options.get("baseline"), report_paths=options.get("report_paths"),
                              known_rule_ids=options.get("known_rule_ids"), json=json)
    streamed = wrap(lambda: audit_partitions(found, groups, rules, config, workers, cache, finishing,
                                             forked=start_scanners))
    try:
        covered = tuple(f"{group[0]}/" for group in groups)
        outside_notes = [note for note in found.notes if not note.span.path.startswith(covered)]
        project = Project(root=found.root, files=tuple(found.files), recognised=tuple(sorted(streamed.recognised)),
                          problems=tuple(streamed.problems), notes=tuple(outside_notes + streamed.notes),
                          unparsed={k: tuple(v) for k, v in streamed.unparsed.items()})
        return audit(project, rules, config, roots, streamed=streamed, finishing=finishing, **options)
    except BaseException:
        streamed.spool.close()
        raise


def scan(paths: Sequence[Path | str], *, scan_root: Path | None = None, config: Config | None = None,
         select: Sequence[str] = (), ignore: Sequence[str] = (), jobs: int | None = None) -> AuditResult:
    from auditor.catalog import distrust_inside, load_catalog
    from auditor.discovery import discover
    from auditor.engine import select_rules

    roots = [Path(p).absolute() for p in paths]
    scan_root = scan_root or (roots[0] if len(roots) == 1 and roots[0].is_dir() else Path.cwd())
    distrust_inside(scan_root, *roots)
    config = config or Config()
    rules = select_rules(load_catalog(), config, select, ignore)
    found = discover(roots, scan_root, exclude=config.exclude, max_file_size=config.max_file_size,
                     max_files=config.max_files)
    return audit_tree(found, rules, config, [str(p) for p in paths], jobs=jobs)
