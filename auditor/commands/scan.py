"""``auditor scan``: discover, parse, check, report, and exit with a code a pipeline can trust."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from auditor.cli import EXIT_FINDINGS, EXIT_OK, UsageError

TEXT_FORMATS = ("text",)
FORMATS = ("text", "json")
PROGRESS_THRESHOLD = 200  # files; below this a progress display would only flicker


def _scan_root(paths: list[str]) -> tuple[Path, list[Path]]:
    resolved = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{raw}: no such file or folder")
        resolved.append(path.absolute())
    if len(resolved) == 1 and resolved[0].is_dir():
        return resolved[0], resolved
    cwd = Path.cwd()
    if all(p == cwd or cwd in p.parents for p in resolved):
        return cwd, resolved
    common = Path(os.path.commonpath([str(p if p.is_dir() else p.parent) for p in resolved]))
    return common, resolved


def parse_formats(specs: list[str] | None, output: str | None) -> list[tuple[str, str | None]]:
    """``["sarif:out.sarif", "text"]`` -> ``[("sarif", "out.sarif"), ("text", None)]``."""
    chosen: list[tuple[str, str | None]] = []
    for spec in specs or ["text"]:
        name, _, target = spec.partition(":")
        name = name.strip().lower()
        if name not in FORMATS:
            raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
        chosen.append((name, target or None))
    if output:
        without_file = [i for i, (_, target) in enumerate(chosen) if target is None]
        if len(without_file) != 1:
            raise UsageError("--output needs exactly one --format without its own :FILE")
        chosen[without_file[0]] = (chosen[without_file[0]][0], output)
    if sum(1 for _, target in chosen if target is None) > 1:
        raise UsageError("only one format can go to standard output; give the others a file: --format json:report.json")
    return chosen


def run(args: argparse.Namespace) -> int:
    from auditor.catalog import load_catalog
    from auditor.config import find_config, load_config
    from auditor.discovery import discover
    from auditor.engine import audit, select_rules
    from auditor.parsers.project import build_project

    formats = parse_formats(args.formats, args.output)
    scan_root, roots = _scan_root(args.paths)
    catalog = load_catalog()
    unknown = [p for p in args.select + args.ignore if not any(r.startswith(p) for r in catalog)]
    if unknown:
        raise UsageError(f"no rule matches {', '.join(unknown)}; `auditor rules` lists them all")
    config_path = Path(args.config) if args.config else find_config(scan_root)
    if args.config and not config_path.is_file():  # type: ignore[union-attr]
        raise UsageError(f"--config {args.config}: no such file")
    config = load_config(config_path, catalog)
    rules = select_rules(catalog, config, args.select, args.ignore)
    threshold = args.fail_on or config.fail_on or "high"

    found = discover(roots, scan_root, exclude=config.exclude, max_file_size=config.max_file_size,
                     max_files=config.max_files)
    project = _with_progress(lambda: build_project(found), len(found.files), args)
    result = audit(project, rules, config, [_display(p, scan_root) for p in roots])
    _write_reports(result, formats, threshold, args)
    return EXIT_FINDINGS if result.at_or_above(threshold) else EXIT_OK


def _display(path: Path, scan_root: Path) -> str:
    try:
        relative = path.relative_to(scan_root).as_posix()
    except ValueError:
        return str(path)
    return relative if relative != "." else str(scan_root)


def _with_progress(work, file_count: int, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Long parses show a spinner on stderr (a terminal only; never in pipes or CI logs)."""
    if args.quiet or file_count < PROGRESS_THRESHOLD or not sys.stderr.isatty() or os.environ.get("NO_COLOR"):
        return work()
    from rich.console import Console

    with Console(stderr=True).status(f"Parsing {file_count:,} files…"):
        return work()


def _write_reports(result, formats: list[tuple[str, str | None]], threshold: str,  # type: ignore[no-untyped-def]
                   args: argparse.Namespace) -> None:
    for name, target in formats:
        if target is None:
            _render(name, result, sys.stdout, threshold, args, to_terminal=True)
            continue
        try:
            with open(target, "w", encoding="utf-8") as stream:
                _render(name, result, stream, threshold, args, to_terminal=False)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror}") from exc


def _render(name: str, result, stream, threshold: str, args: argparse.Namespace,  # type: ignore[no-untyped-def]
            to_terminal: bool) -> None:
    if name == "text":
        from auditor.report.console import render_text, use_color

        color = use_color(args.color, stream) if to_terminal else args.color == "always"
        render_text(result, stream, color=color, threshold=threshold, quiet=args.quiet)
    elif name == "json":
        from auditor.report.json_report import render_json

        render_json(result, stream)
