"""Independent projects side by side: audit them one by one, in a process pool when there are many.

A tree whose every top-level folder holding audited files is itself a project (a Dockerfile and a
compose file or package.json directly inside, no compose file building from a sibling folder),
with nothing audited at its root, is a collection
of independent deployments (a monorepo of apps, a vendor drop of many services). Each is audited
on its own, which is also what "separate deployments" means for the cross-file rules, and the
partitions go to worker processes when the tree is large enough to pay for forking. The same
partitions are used with one job or many, so ``--jobs 1`` and ``--jobs N`` give the same findings.
"""
from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import TYPE_CHECKING, Any
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
else:
    from auditor.record import dataclass, field

from auditor.catalog import Rule
from auditor.config import Config
from auditor.discovery import Discovered
from auditor.findings import ControlResult, Finding
from auditor.model.span import Note, ParseProblem

if TYPE_CHECKING:
    from auditor.cache import ResultCache

POOL_THRESHOLD = 400  # files; below this, forking costs more than it saves
_COMPOSE_NAMES = ("docker-compose", "compose.")
_KINDS = ("dockerfiles", "compose", "yaml", "nginx", "dockerignores", "next_files")
STATUS_PRECEDENCE = {"fail": 4, "error": 3, "pass": 2, "suppressed": 1, "not_applicable": 0}


@dataclass
class PartitionResult:
    findings: list[Finding]
    controls: dict[str, ControlResult]
    notes: list[Note]
    problems: list[ParseProblem]
    recognised: list[str]
    unparsed: dict[str, list[str]]
    suppression_sources: dict[str, str] = field(default_factory=dict)  # files mentioning `auditor:`


def parse_bounds(config: Config) -> dict[str, Any]:
    """The configured resource bounds, as ``build_project`` takes them."""
    return {"parse_timeout": config.parse_timeout, "max_include_depth": config.max_include_depth,
            "max_file_size": config.max_file_size, "roles": dict(config.roles),
            "helm_values": tuple(str(v) for v in (config.helm or {}).get("values", []))}


# An audit allocates millions of small objects that live until the report is written (YAML
# nodes, model objects, findings, evidence) and makes almost no reference cycles; with the
# default thresholds the collector walks that growing heap over and over (a third of the CPU
# time of a 45,000-document manifest). Young collections every 100,000 allocations instead of
# 700 keep cycles collected while costing a few percent.
_AUDIT_GC_THRESHOLD = (100_000, 50, 100)


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the block with the audit's garbage-collector thresholds (restored after; worker
    processes forked inside inherit them)."""
    previous = gc.get_threshold()
    gc.set_threshold(*_AUDIT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def partitions(found: Discovered) -> list[list[str]] | None:
    """Top-level folders to audit apart, or ``None`` when the tree is one deployment."""
    from auditor.parsers.project import not_checked_targets

    # files discovery counted but could not read belong to a partition too (their AUD003)
    recognised = [path for kind in _KINDS for path in getattr(found, kind)] + list(not_checked_targets(found))
    if not recognised or any("/" not in path for path in recognised):
        return None
    folders = sorted({path.split("/", 1)[0] for path in recognised})
    if len(folders) < 2:
        return None
    direct = [path.split("/") for path in recognised if path.count("/") == 1]
    images = {folder for folder, name in direct if name.startswith(("Dockerfile", "Containerfile"))}
    wiring = {folder for folder, name in direct if name == "package.json" or name.startswith(_COMPOSE_NAMES)}
    if set(folders) - (images & wiring):
        return None  # a folder like `deploy/`, `docker/` or `nginx/` serves the others: one deployment
    if any(_reaches_outside(found, path) for path in found.compose):
        return None  # a compose file builds from a sibling folder: they belong together
    return [[folder] for folder in folders]


def _reaches_outside(found: Discovered, compose_path: str) -> bool:
    try:
        return "../" in (found.root / compose_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def split(found: Discovered, groups: list[list[str]]) -> list[Discovered]:
    """One Discovered per group, in a single pass over the lists (linear, whatever the count)."""
    parts = [Discovered(found.root) for _ in groups]
    index = {folder: position for position, group in enumerate(groups) for folder in group}

    def owner(path: str) -> Discovered | None:
        position = index.get(path.split("/", 1)[0])
        return parts[position] if position is not None else None

    for item in fields(Discovered):
        if item.name == "root":
            continue
        value = getattr(found, item.name)
        for entry in value:
            part = owner(entry.span.path if isinstance(entry, Note) else entry)
            if part is None:
                continue
            target = getattr(part, item.name)
            if isinstance(target, set):
                target.add(entry)
            else:
                target.append(entry)
    return parts


def _audit_partition(found: Discovered, rule_ids: list[str], config: Config,
                     cache: ResultCache | None = None) -> PartitionResult:
    result = _parse_and_check(found, rule_ids, config)
    if cache is not None:
        cache.keep(found, result)
    return result


def _parse_and_check(found: Discovered, rule_ids: list[str], config: Config) -> PartitionResult:
    from auditor.catalog import load_catalog
    from auditor.engine import run_checks
    from auditor.parsers.project import build_project

    catalog = load_catalog()
    rules = {rule_id: catalog[rule_id] for rule_id in rule_ids}
    project = build_project(found, **parse_bounds(config))
    findings, controls = run_checks(project, rules, config)
    sources = {path: text for path, text in project.all_sources().items() if "auditor:" in text}
    return PartitionResult(findings, controls, list(project.notes), list(project.problems),
                           list(project.recognised), {k: list(v) for k, v in project.unparsed.items()}, sources)


def _audit_chunk(parts: list[Discovered], rule_ids: list[str], config: Config,
                 cache: ResultCache | None = None) -> list[PartitionResult]:
    return [_audit_partition(part, rule_ids, config, cache) for part in parts]


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, e.g. a CI container)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_count(jobs: int | None) -> int:
    """Worker processes for ``jobs`` (0 or None: one per CPU), never more than the CPUs: whatever
    is asked (``--jobs 300``), forking more processes than cores only costs memory."""
    cpus = available_cpus()
    return cpus if not jobs or jobs <= 0 else min(jobs, cpus)


def audit_partitions(found: Discovered, groups: list[list[str]], rules: dict[str, Rule], config: Config,
                     jobs: int, cache: ResultCache | None = None) -> PartitionResult:
    """``cache``: unchanged partitions come from the incremental cache (``auditor.cache``)."""
    rule_ids = list(rules)
    every_part = split(found, groups)
    kept = cache.lookup(every_part, PartitionResult) if cache is not None else [None] * len(every_part)
    parts = [part for part, outcome in zip(every_part, kept) if outcome is None]
    if len(parts) < len(every_part):
        from auditor import progress

        progress.files_done(sum(len(part.files) for part, outcome in zip(every_part, kept) if outcome is not None))
    workers = worker_count(jobs)
    if workers > 1 and sum(len(part.files) for part in parts) >= POOL_THRESHOLD and len(parts) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Several partitions per task keeps the pickling overhead low; more tasks than workers
        # keeps both cores busy when projects differ in size.
        size = max(1, len(parts) // (workers * 4))
        chunks = [parts[i:i + size] for i in range(0, len(parts), size)]
        context = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        from auditor import progress

        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = []
            for chunk, batch in zip(chunks, pool.map(_audit_chunk, chunks, [rule_ids] * len(chunks),
                                                     [config] * len(chunks), [cache] * len(chunks))):
                results.extend(batch)
                progress.files_done(sum(len(part.files) for part in chunk))  # a worker's files, in order
    else:
        results = _audit_chunk(parts, rule_ids, config, cache)
    fresh = iter(results)
    return merge([outcome if outcome is not None else next(fresh) for outcome in kept])


def merge(results: list[PartitionResult]) -> PartitionResult:
    merged = PartitionResult([], {}, [], [], [], {})
    evidence: dict[str, list[Any]] = {}
    for result in results:
        merged.findings.extend(result.findings)
        merged.notes.extend(result.notes)
        merged.problems.extend(result.problems)
        merged.recognised.extend(result.recognised)
        merged.suppression_sources.update(result.suppression_sources)
        for kind, paths in result.unparsed.items():
            merged.unparsed.setdefault(kind, []).extend(paths)
        for rule_id, control in result.controls.items():
            evidence.setdefault(rule_id, []).extend(control.evidence)  # one list: no quadratic copying
            merged.controls[rule_id] = _combine(merged.controls.get(rule_id), control)
    for rule_id, control in merged.controls.items():
        merged.controls[rule_id] = ControlResult(rule_id, control.status, tuple(evidence[rule_id]), control.reason)
    return merged


def _combine(first: ControlResult | None, second: ControlResult) -> ControlResult:
    """The status that decides (fail over error over pass over not applicable); evidence is
    gathered by ``merge``."""
    if first is None or STATUS_PRECEDENCE[second.status] > STATUS_PRECEDENCE[first.status]:
        return ControlResult(second.rule_id, second.status, (), second.reason)
    return first


__all__ = ["partitions", "audit_partitions", "worker_count", "PartitionResult", "POOL_THRESHOLD", "parse_bounds",
           "few_collections"]
