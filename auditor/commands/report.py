"""``auditor report [PATH] [-o PATH]``: audit a tree and write the compliance report (HTML and/or
Markdown) for every control of the catalog.

The report is a document, not a gate: the exit code is 0 once it is written, whatever it says
(``auditor scan --fail-on`` is the gate). ``--format`` and ``-o`` follow ``auditor scan``'s
conventions: ``--format FORMAT[:FILE]`` (repeatable; ``-`` is standard output) and ``-o`` for the
format given without its own file. Without a file, reports go to ``DIR/NAME.html`` and
``DIR/NAME.md``: DIR is ``-o`` when it names a folder, else ``auditor-report/`` (never a folder
called ``reports/``, which a repository may keep for its own documents); NAME is ``--name`` or
the audited folder's name.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditor.cli import DEFAULT_REPORT_DIR, EXIT_OK, UsageError

REPORT_FORMATS = {"html": ".html", "markdown": ".md"}


def parse_report_formats(text: str | list[str] | None) -> list[str]:
    """``html,markdown`` -> ``["html", "markdown"]`` (``md`` accepted for ``markdown``)."""
    return [name for name, _ in parse_report_specs(text, None)]


def parse_report_specs(specs: str | list[str] | None, output: str | None) -> list[tuple[str, str | None]]:
    """``--format`` values (each ``FORMAT[:FILE]`` or a comma-separated list of formats) and
    ``-o`` -> ``[(format, file or None)]``; None: the report folder. ``-o`` names a file (or
    ``-``) only when exactly one format has no file of its own and ``-o`` is not a folder."""
    if specs is None:
        specs = ["html,markdown"]
    elif isinstance(specs, str):
        specs = [specs]
    chosen: list[tuple[str, str | None]] = []
    for spec in specs:
        names, _, target = spec.partition(":")
        parts = [p.strip().lower() for p in names.split(",") if p.strip()]
        if target and len(parts) != 1:
            raise UsageError(f"--format {spec}: a FILE goes with one format (html:FILE or markdown:FILE)")
        for part in parts:
            part = "markdown" if part == "md" else part
            if part not in REPORT_FORMATS:
                raise UsageError(f"unknown report format {part!r}; choose from html, markdown")
            if part not in [name for name, _ in chosen]:
                chosen.append((part, target or None))
    if not chosen:
        raise UsageError("--format needs at least one of html, markdown")
    if sum(1 for _, target in chosen if target == "-") > 1:
        raise UsageError("only one format can go to standard output; give the others a file: --format html:report.html")
    return chosen


def output_plan(specs: list[tuple[str, str | None]], output: str | None) -> tuple[list[tuple[str, str | None]], Path]:
    """Where each format goes: its own file, or (None) the report folder, which is returned too."""
    without_file = [i for i, (_, target) in enumerate(specs) if target is None]
    if output is not None and output != "-" and (Path(output).is_dir() or output.endswith(("/", "\\"))):
        return specs, Path(output)
    if output is not None and len(without_file) == 1 and (output == "-" or len(specs) == 1 or
                                                          Path(output).suffix.lower() in (".html", ".htm", ".md")):
        specs = list(specs)
        specs[without_file[0]] = (specs[without_file[0]][0], output)
        return specs, Path(DEFAULT_REPORT_DIR)
    if output == "-":
        raise UsageError("-o - writes one format to standard output: choose it with --format html or --format markdown")
    return specs, Path(output) if output is not None else Path(DEFAULT_REPORT_DIR)


def report_name(paths: list[str]) -> str:
    """The audited folder's name (``compliant`` for ``fixtures/compliant``); ``report`` for '.'."""
    name = Path(paths[0]).absolute().name if paths else ""
    return name if len(paths) == 1 and name and paths[0] not in (".", "./") else "report"


def run(args: argparse.Namespace) -> int:
    from auditor.catalog import load_catalog
    from auditor.commands.scan import prepare
    from auditor.report.compliance import build_report, collect_scope, render_html, render_markdown

    output_arg = getattr(args, "output", None)
    specs, folder = output_plan(parse_report_specs(getattr(args, "report_formats", None), output_arg), output_arg)
    for name, default in (("quiet", True), ("diff_base", None), ("baseline", None), ("no_suppress", False),
                          ("trivy", None), ("image", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    result, config = prepare(args)
    target = " ".join(args.paths)
    report = build_report(result, load_catalog(), target, scope=collect_scope(result, config))
    name = getattr(args, "name", None) or report_name(args.paths)
    renderers = {"html": render_html, "markdown": render_markdown}
    for format_name, file in specs:
        if file == "-":
            renderers[format_name](report, sys.stdout)
            sys.stdout.flush()
            continue
        if file is None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create {folder}: {exc.strerror}") from exc
            path = folder / f"{name}{REPORT_FORMATS[format_name]}"
        else:
            path = Path(file)
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                renderers[format_name](report, stream)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        if not getattr(args, "quiet_report", False):
            sys.stderr.write(f"wrote {path}\n")
    return EXIT_OK
