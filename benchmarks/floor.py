#!/usr/bin/env python3
"""The parse-only floor of `auditor scan` (benchmark-only entry, never shipped as a command).

    python benchmarks/floor.py TREE [--jobs N]

Does what `auditor scan TREE --no-external` does up to and including parsing, and nothing after:
the same discovery (default bounds, .gitignore handling), the same partitions of a tree of
independent projects, the same split into chunks, the same fork pool of N workers, the same
garbage-collector settings (``auditor.parallel.few_collections`` where it exists), and in each
worker the same ``build_project`` (every parser and the model: YAML with positions, crossplane and
include resolution, tree-sitter, dockerfile-parse, the deployment model). It then stops: no
catalog, no configuration lookup, no check, no suppression, no fingerprint, no merge, no report.
Each worker returns only a count, so no result crosses the process boundary.

A tree that is one deployment (no partitions) is parsed in this process, as the scan does.
bench_scan.py row (a) divides the real scan's wall time by this one's.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any


def _parse_chunk(parts: list[Any], bounds: dict[str, Any]) -> int:
    from auditor.parsers.project import build_project

    parsed = 0
    for part in parts:
        project = build_project(part, **bounds)
        parsed += len(project.recognised)
    return parsed


def _bounds() -> dict[str, Any]:
    """The bounds the scan passes to build_project (the defaults of an unconfigured tree)."""
    import importlib

    from auditor.config import Config

    for home in ("auditor.parallel", "auditor.api"):  # where parse_bounds lives, newest first
        parse_bounds = getattr(importlib.import_module(home), "parse_bounds", None)
        if parse_bounds is not None:
            bounds: dict[str, Any] = parse_bounds(Config())
            return bounds
    return {}  # gone in a refactoring: build_project's own defaults


def _as_the_audit_runs() -> AbstractContextManager[None]:
    """The garbage-collector settings the scan's audit runs under (``auditor.parallel.few_collections``
    where it exists), so that the floor is not slowed by collections the scan does not pay."""
    from auditor import parallel

    settings: Callable[[], AbstractContextManager[None]] | None = getattr(parallel, "few_collections", None)
    return settings() if settings is not None else nullcontext()


def floor(root: Path, jobs: int) -> int:
    """Parse every audited file of ``root`` in the scan's worker layout; returns the files parsed."""
    from auditor.config import Config
    from auditor.discovery import discover

    config = Config()
    found = discover([root], root, exclude=[], max_file_size=config.max_file_size, max_files=config.max_files)
    with _as_the_audit_runs():
        return _parse(found, jobs)


def _parse(found: Any, jobs: int) -> int:
    from auditor.parallel import POOL_THRESHOLD, partitions, split, worker_count

    bounds = _bounds()
    groups = partitions(found)
    if groups is None:
        return _parse_chunk([found], bounds)
    parts = split(found, groups)
    workers = worker_count(jobs)
    if not (workers > 1 and len(found.files) >= POOL_THRESHOLD and len(parts) > 1):
        return _parse_chunk(parts, bounds)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = _chunks(parts, workers)
    context = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return sum(pool.map(_parse_chunk, chunks, [bounds] * len(chunks)))


def _chunks(parts: list[Any], workers: int) -> list[list[Any]]:
    """The partitions in the chunks auditor.parallel.audit_partitions makes of them."""
    from auditor.parallel import chunk_starts

    starts = chunk_starts(len(parts), workers)
    return [parts[start:end] for start, end in zip(starts, starts[1:] + [len(parts)])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: one per CPU)")
    parser.add_argument("--print", action="store_true", help="print how many files were parsed")
    args = parser.parse_args(argv)
    parsed = floor(Path(os.path.abspath(args.tree)), args.jobs)
    if args.print:
        print(f"parsed {parsed} files")
    return 0 if parsed else 1


if __name__ == "__main__":
    sys.exit(main())
